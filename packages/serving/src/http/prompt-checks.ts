import { SwitchyardError } from '@switchyard/core';
import type { ChatMessage, ChatTemplateOptions } from '@switchyard/tokenizer';
import { HttpError } from '../errors.js';
import type { ServerContext } from './server-context.js';

/** A request naming another model than the one served: 404 `model_not_found`, as OpenAI answers. */
export function checkModel(server: ServerContext, model: string | undefined): void {
  if (model !== undefined && model !== server.modelId) {
    throw new HttpError({
      code: 'NOT_FOUND',
      message: `The model '${model}' does not exist; this server serves '${server.modelId}'.`,
      param: 'model',
      apiCode: 'model_not_found',
    });
  }
}

/** `stream_options` only means something on a stream (vLLM and OpenAI refuse it otherwise). */
export function checkStreamOptions(body: { stream?: boolean | null; stream_options?: unknown }): void {
  if (body.stream_options != null && body.stream !== true) {
    throw new HttpError({
      code: 'INVALID_INPUT',
      message: 'stream_options is only allowed when stream is true.',
      param: 'stream_options',
      apiCode: 'invalid_value',
    });
  }
}

/**
 * A prompt's token ids checked before they reach the engine: not empty, within the server's
 * `maxPromptTokens`, shorter than the model's context (`max_model_len`), every id one the model has.
 */
export function checkPromptTokens(server: ServerContext, tokens: readonly number[], param: string): void {
  const { options, engine } = server;
  const maxModelLen = engine.info.maxContextTokens;
  if (tokens.length === 0) {
    throw new HttpError({ code: 'INVALID_INPUT', message: 'The prompt is empty.', param });
  }
  if (tokens.length > maxModelLen) {
    throw new HttpError({
      code: 'INVALID_INPUT',
      message: `This model's maximum context length is ${maxModelLen} tokens, but the prompt is ${tokens.length} tokens.`,
      param,
      apiCode: 'context_length_exceeded',
    });
  }
  if (tokens.length > options.maxPromptTokens) {
    throw new HttpError({
      code: 'INVALID_INPUT',
      message: `The prompt is ${tokens.length} tokens; this server accepts at most ${options.maxPromptTokens}.`,
      param,
      apiCode: 'prompt_too_long',
    });
  }
  const vocabSize = engine.info.vocabSize;
  const bad = tokens.findIndex((id) => id >= vocabSize);
  if (bad >= 0) {
    throw new HttpError({
      code: 'INVALID_INPUT',
      message: `Token id ${tokens[bad]} at position ${bad} is not one of the model's ${vocabSize} tokens.`,
      param,
      apiCode: 'invalid_value',
    });
  }
}

/**
 * The completion's token budget. An explicit `max_tokens` must fit the server's limit and, with the
 * prompt, the model's context (400 naming both lengths otherwise); a left-out one is `fallback` cut to
 * what fits.
 */
export function maxTokensFor(
  server: ServerContext,
  promptLength: number,
  requested: number | null | undefined,
  { param, fallback }: { param: string; fallback: number },
): number {
  const { options, engine } = server;
  const contextTokens = engine.info.maxContextTokens;
  const room = contextTokens - promptLength;
  if (requested === undefined || requested === null) {
    const budget = Math.min(fallback, options.maxTokens, room);
    if (budget < 1) {
      throw new HttpError({
        code: 'INVALID_INPUT',
        message: `This model's maximum context length is ${contextTokens} tokens and the prompt is ${promptLength} tokens: no room is left for the completion.`,
        param: 'prompt',
        apiCode: 'context_length_exceeded',
      });
    }
    return budget;
  }
  if (requested > options.maxTokens) {
    throw new HttpError({
      code: 'INVALID_INPUT',
      message: `${param} is ${requested}; this server allows at most ${options.maxTokens}.`,
      param,
      apiCode: 'invalid_value',
    });
  }
  if (promptLength + requested > contextTokens) {
    throw new HttpError({
      code: 'INVALID_INPUT',
      message: `This model's maximum context length is ${contextTokens} tokens, but you requested ${promptLength + requested} (${promptLength} in the prompt, ${requested} for the completion).`,
      param,
      apiCode: 'context_length_exceeded',
    });
  }
  return requested;
}

/**
 * A tokenizer's refusal (a bad message, a template that raises, no chat template) as a 400 naming the
 * request field; the server's file paths stay out of the message.
 */
export function asRequestError(error: unknown, param: string): unknown {
  if (!SwitchyardError.isInstance(error) || error.code !== 'INVALID_INPUT' || HttpError.isInstance(error))
    return error;
  const location = error.location;
  const message = location ? error.message.replace(` (at ${location})`, '') : error.message;
  const field = location?.startsWith(param) ? location : param;
  return new HttpError({
    code: 'INVALID_INPUT',
    message,
    param: field,
    apiCode: param === 'messages' ? 'invalid_chat_request' : 'invalid_value',
    cause: error,
  });
}

/** A conversation rendered with the model's chat template and encoded (no second BOS), or a 400. */
export function encodeConversation(
  server: ServerContext,
  messages: readonly unknown[],
  options: ChatTemplateOptions,
): { tokens: number[]; text: string } {
  const { tokenizer } = server.engine;
  try {
    const conversation = messages as ChatMessage[];
    const text = tokenizer.applyChatTemplate(conversation, options);
    return { text, tokens: tokenizer.encode(text, { addSpecialTokens: false }) };
  } catch (error) {
    throw asRequestError(error, 'messages');
  }
}
