import type { CompletionJob, FinishReason, TokenLogprobs } from '../../engine.js';
import { HttpError } from '../../errors.js';
import { toErrorResponse } from '../error-response.js';
import { EventStream } from '../event-stream.js';
import { type ChoiceJob, GenerationRun, usageOf } from '../generation-run.js';
import { jobSettings, maxChoicesPerRequest } from '../job-settings.js';
import { completionLogprobs, type LoggedToken, promptOffsets } from '../logprobs-format.js';
import {
  checkModel,
  checkPromptTokens,
  checkStreamOptions,
  encodeConversation,
  maxTokensFor,
} from '../prompt-checks.js';
import { parseJsonBody, readBody } from '../request-body.js';
import type { Route } from '../router.js';
import {
  type CompletionLogprobs,
  type CompletionRequest,
  type CompletionResponse,
  completionRequestSchema,
} from '../schemas.js';
import type { Exchange, ServerContext } from '../server-context.js';

/** One prompt of a request, as the model reads it and as `echo` returns it. */
interface CompletionPrompt {
  tokens: number[];
  /** The prompt's text: as sent, rendered (`chat` servers) or decoded (token prompts). */
  text: string;
  /** Whether `text` leaves special tokens out (a text prompt as sent, whose BOS the tokenizer added). */
  textSkipsSpecialTokens: boolean;
}

const isTokenList = (value: unknown): value is number[] =>
  Array.isArray(value) && value.length > 0 && typeof value[0] === 'number';

/**
 * The request's prompts as token ids: text encoded with the tokenizer (with its special tokens unless
 * `add_special_tokens: false`; a `chat` server renders a text prompt as one user message with the chat
 * template), token ids as given. Each is checked against the limits and the vocabulary.
 */
function completionPrompts(server: ServerContext, body: CompletionRequest): CompletionPrompt[] {
  const { tokenizer } = server.engine;
  const raw = body.prompt;
  const list: (string | number[])[] = typeof raw === 'string' || isTokenList(raw) ? [raw] : raw;
  return list.map((prompt, index) => {
    const param = list.length === 1 && !Array.isArray(raw[0]) ? 'prompt' : `prompt[${index}]`;
    let result: CompletionPrompt;
    if (typeof prompt !== 'string') {
      result = { tokens: prompt, text: tokenizer.decode(prompt), textSkipsSpecialTokens: false };
    } else if (prompt === '') {
      throw new HttpError({ code: 'INVALID_INPUT', message: 'The prompt is empty.', param });
    } else if (server.options.chat) {
      const { tokens, text } = encodeConversation(server, [{ role: 'user', content: prompt }], {
        addGenerationPrompt: true,
      });
      result = { tokens, text, textSkipsSpecialTokens: false };
    } else {
      const tokens = tokenizer.encode(prompt, { addSpecialTokens: body.add_special_tokens ?? true });
      result = { tokens, text: prompt, textSkipsSpecialTokens: true };
    }
    checkPromptTokens(server, result.tokens, param);
    return result;
  });
}

/** A choice being assembled for the whole (non-streamed) response. */
interface ChoiceState {
  text: string;
  tokens: LoggedToken[];
  promptLogprobs: (TokenLogprobs | null)[] | undefined;
  finishReason: FinishReason | null;
}

/**
 * `POST /v1/completions`: OpenAI's legacy completions, answered whole or streamed as server-sent events;
 * `n` choices per prompt (choice `i` of prompt `p` has index `p × n + i`), `logprobs`, and `echo`.
 */
export function completionsRoute(server: ServerContext): Route {
  const { options, modelId } = server;

  const complete = async (exchange: Exchange, rateKey: string): Promise<void> => {
    const receivedMs = performance.now();
    const body = parseJsonBody(
      await readBody(exchange.request, options.maxBodyBytes),
      completionRequestSchema,
    );
    server.rateLimit(rateKey);
    checkModel(server, body.model);
    checkStreamOptions(body);
    if (body.max_tokens === 0 && body.echo !== true) {
      throw new HttpError({
        code: 'INVALID_INPUT',
        message: 'max_tokens 0 only makes sense with echo (scoring the prompt).',
        param: 'max_tokens',
        apiCode: 'invalid_value',
      });
    }
    const tokenizer = server.engine.tokenizer;
    const prompts = completionPrompts(server, body);
    const n = body.n ?? 1;
    if (prompts.length * n > maxChoicesPerRequest) {
      throw new HttpError({
        code: 'INVALID_INPUT',
        message: `${prompts.length} prompts × n = ${n} is ${prompts.length * n} completions; a request may ask for at most ${maxChoicesPerRequest}.`,
        param: 'n',
        apiCode: 'invalid_value',
      });
    }
    const echo = body.echo === true;
    const logprobs = body.logprobs ?? undefined;
    const fallback = server.engine.generationConfig.maxNewTokens ?? options.defaultMaxTokens;
    const jobs: ChoiceJob[] = prompts.flatMap((prompt, p) => {
      const maxTokens =
        body.max_tokens === 0
          ? 0
          : maxTokensFor(server, prompt.tokens.length, body.max_tokens, { param: 'max_tokens', fallback });
      return Array.from({ length: n }, (_, i) => {
        const job: Omit<CompletionJob, 'signal'> = {
          ...jobSettings(body, i),
          promptTokens: prompt.tokens,
          maxTokens,
          logprobs,
          promptLogprobs: echo ? logprobs : undefined,
        };
        return { choice: p * n + i, job };
      });
    });
    const promptOf = (choice: number) => prompts[Math.floor(choice / n)]!;
    const echoed = (choice: number) => (echo ? promptOf(choice).text : '');
    const formatPrompt = (choice: number, promptLogprobs: (TokenLogprobs | null)[]): CompletionLogprobs => {
      const prompt = promptOf(choice);
      const offsets = promptOffsets(tokenizer, prompt.tokens, prompt.textSkipsSpecialTokens);
      return completionLogprobs(
        tokenizer,
        prompt.tokens.map((id, i) => ({ id, logprobs: promptLogprobs[i], offset: offsets[i]! })),
      );
    };
    const formatTokens = (choice: number, tokens: readonly LoggedToken[]): CompletionLogprobs =>
      completionLogprobs(
        tokenizer,
        tokens.map((token) => ({ ...token, offset: token.offset + echoed(choice).length })),
      );
    const run = new GenerationRun(server, exchange, receivedMs, 'cmpl');
    const envelope = (choices: CompletionResponse['choices']): CompletionResponse => ({
      id: run.id,
      object: 'text_completion',
      created: run.created,
      model: modelId,
      choices,
    });
    let completionTokens = 0;
    try {
      if (body.stream) {
        const stream = new EventStream(exchange.response);
        stream.open(server.closeHeader());
        try {
          // Echo without log-probabilities goes first; with them, it waits for the prompt's scores.
          if (echo && logprobs === undefined) {
            for (const { choice } of jobs)
              await stream.send(
                envelope([{ text: echoed(choice), index: choice, logprobs: null, finish_reason: null }]),
              );
          }
          for await (const event of run.events(jobs)) {
            if (stream.closed) break;
            const index = event.choice;
            if (event.type === 'prompt') {
              await stream.send(
                envelope([
                  {
                    text: echoed(index),
                    index,
                    logprobs: formatPrompt(index, event.logprobs),
                    finish_reason: null,
                  },
                ]),
              );
            } else if (event.type === 'text') {
              const chunkLogprobs = logprobs === undefined ? null : formatTokens(index, event.tokens);
              await stream.send(
                envelope([{ text: event.text, index, logprobs: chunkLogprobs, finish_reason: null }]),
              );
            } else {
              completionTokens += event.completionTokens;
              await stream.send(
                envelope([{ text: '', index, logprobs: null, finish_reason: event.finishReason }]),
              );
            }
          }
          if (!stream.closed) {
            if (body.stream_options?.include_usage) {
              const usage = usageOf(
                prompts.map((prompt) => prompt.tokens.length),
                completionTokens,
              );
              await stream.send({ ...envelope([]), usage });
            }
            await stream.done();
          }
          server.metrics.requests.inc({ route: exchange.route, status: 200 });
        } catch (error) {
          // Headers are gone: report the failure as an error event, as OpenAI's stream does.
          const { status, body: errorBody } = toErrorResponse(run.failure(error));
          server.metrics.requests.inc({ route: exchange.route, status });
          if (!stream.closed) await stream.send(errorBody);
        }
        stream.end();
        return;
      }
      const states: ChoiceState[] = jobs.map(() => ({
        text: '',
        tokens: [],
        promptLogprobs: undefined,
        finishReason: null,
      }));
      for await (const event of run.events(jobs)) {
        const state = states[event.choice]!;
        if (event.type === 'prompt') state.promptLogprobs = event.logprobs;
        else if (event.type === 'text') {
          state.text += event.text;
          state.tokens.push(...event.tokens);
        } else {
          state.finishReason = event.finishReason;
          completionTokens += event.completionTokens;
        }
      }
      const choices = states.map((state, index): CompletionResponse['choices'][number] => {
        let choiceLogprobs: CompletionLogprobs | null = null;
        if (logprobs !== undefined) {
          const generated = formatTokens(index, state.tokens);
          if (state.promptLogprobs) {
            const prompt = formatPrompt(index, state.promptLogprobs);
            choiceLogprobs = {
              tokens: [...prompt.tokens, ...generated.tokens],
              token_logprobs: [...prompt.token_logprobs, ...generated.token_logprobs],
              top_logprobs: [...prompt.top_logprobs, ...generated.top_logprobs],
              text_offset: [...prompt.text_offset, ...generated.text_offset],
            };
          } else choiceLogprobs = generated;
        }
        return {
          text: echoed(index) + state.text,
          index,
          logprobs: choiceLogprobs,
          finish_reason: state.finishReason,
        };
      });
      const usage = usageOf(
        prompts.map((prompt) => prompt.tokens.length),
        completionTokens,
      );
      server.send(exchange, 200, { ...envelope(choices), usage });
    } finally {
      run.finish();
    }
  };

  return {
    method: 'POST',
    run: (exchange, rateKey) => {
      server.refuseWhileDraining();
      return complete(exchange, rateKey);
    },
  };
}
