import type { CompletionJob, FinishReason, TokenLogprobs } from '../../engine.js';
import {
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  type ChatCompletionResponse,
  type ChatLogprobs,
  chatCompletionRequestSchema,
} from '../chat-schemas.js';
import { toErrorResponse } from '../error-response.js';
import { EventStream } from '../event-stream.js';
import { type ChoiceJob, GenerationRun, usageOf } from '../generation-run.js';
import { jobSettings } from '../job-settings.js';
import { chatLogprobs } from '../logprobs-format.js';
import {
  checkModel,
  checkPromptTokens,
  checkStreamOptions,
  encodeConversation,
  maxTokensFor,
} from '../prompt-checks.js';
import { parseJsonBody, readBody } from '../request-body.js';
import type { Route } from '../router.js';
import type { Exchange, ServerContext } from '../server-context.js';

/** The conversation as the model reads it: rendered with the chat template, encoded without a second BOS. */
function chatPrompt(server: ServerContext, body: ChatCompletionRequest): number[] {
  const { tokens } = encodeConversation(server, body.messages, {
    addGenerationPrompt: body.add_generation_prompt ?? true,
    tools: body.tools ?? undefined,
    templateVariables: body.chat_template_kwargs ?? undefined,
  });
  checkPromptTokens(server, tokens, 'messages');
  return tokens;
}

interface ChoiceState {
  content: string;
  logprobs: { logprobs?: TokenLogprobs | undefined }[];
  finishReason: FinishReason | null;
}

/**
 * `POST /v1/chat/completions`: OpenAI's chat completions over the model's chat template, answered whole
 * or streamed as `chat.completion.chunk` events (each choice's role first, then content deltas, then its
 * finish reason; usage last with `stream_options.include_usage`).
 */
export function chatCompletionsRoute(server: ServerContext): Route {
  const { options, modelId } = server;

  const complete = async (exchange: Exchange, rateKey: string): Promise<void> => {
    const receivedMs = performance.now();
    const body = parseJsonBody(
      await readBody(exchange.request, options.maxBodyBytes),
      chatCompletionRequestSchema,
    );
    server.rateLimit(rateKey);
    checkModel(server, body.model);
    checkStreamOptions(body);
    const tokenizer = server.engine.tokenizer;
    const promptTokens = chatPrompt(server, body);
    const requested = body.max_completion_tokens ?? body.max_tokens;
    const param = body.max_completion_tokens == null ? 'max_tokens' : 'max_completion_tokens';
    // Chat's default budget is whatever fits (as OpenAI and vLLM), within the server's limit.
    const fallback = server.engine.generationConfig.maxNewTokens ?? options.maxTokens;
    const maxTokens = maxTokensFor(server, promptTokens.length, requested, { param, fallback });
    const logprobs = body.logprobs === true ? (body.top_logprobs ?? 0) : undefined;
    const n = body.n ?? 1;
    const jobs: ChoiceJob[] = Array.from({ length: n }, (_, choice) => {
      const job: Omit<CompletionJob, 'signal'> = {
        ...jobSettings(body, choice),
        promptTokens,
        maxTokens,
        logprobs,
      };
      return { choice, job };
    });
    const run = new GenerationRun(server, exchange, receivedMs, 'chatcmpl');
    const formatLogprobs = (tokens: { logprobs?: TokenLogprobs | undefined }[]): ChatLogprobs | null =>
      logprobs === undefined ? null : { content: chatLogprobs(tokenizer, tokens) };
    let completionTokens = 0;
    try {
      if (body.stream) {
        const chunk = (choices: ChatCompletionChunk['choices']): ChatCompletionChunk => ({
          id: run.id,
          object: 'chat.completion.chunk',
          created: run.created,
          model: modelId,
          choices,
        });
        const stream = new EventStream(exchange.response);
        stream.open(server.closeHeader());
        try {
          for (const { choice } of jobs)
            await stream.send(
              chunk([
                {
                  index: choice,
                  delta: { role: 'assistant', content: '' },
                  logprobs: null,
                  finish_reason: null,
                },
              ]),
            );
          for await (const event of run.events(jobs)) {
            if (stream.closed) break;
            const index = event.choice;
            if (event.type === 'text') {
              await stream.send(
                chunk([
                  {
                    index,
                    delta: { content: event.text },
                    logprobs: formatLogprobs(event.tokens),
                    finish_reason: null,
                  },
                ]),
              );
            } else if (event.type === 'done') {
              completionTokens += event.completionTokens;
              await stream.send(
                chunk([{ index, delta: {}, logprobs: null, finish_reason: event.finishReason }]),
              );
            }
          }
          if (!stream.closed) {
            if (body.stream_options?.include_usage)
              await stream.send({ ...chunk([]), usage: usageOf([promptTokens.length], completionTokens) });
            await stream.done();
          }
          server.metrics.requests.inc({ route: exchange.route, status: 200 });
        } catch (error) {
          const { status, body: errorBody } = toErrorResponse(run.failure(error));
          server.metrics.requests.inc({ route: exchange.route, status });
          if (!stream.closed) await stream.send(errorBody);
        }
        stream.end();
        return;
      }
      const states: ChoiceState[] = jobs.map(() => ({ content: '', logprobs: [], finishReason: null }));
      for await (const event of run.events(jobs)) {
        const state = states[event.choice]!;
        if (event.type === 'text') {
          state.content += event.text;
          state.logprobs.push(...event.tokens);
        } else if (event.type === 'done') {
          state.finishReason = event.finishReason;
          completionTokens += event.completionTokens;
        }
      }
      const response: ChatCompletionResponse = {
        id: run.id,
        object: 'chat.completion',
        created: run.created,
        model: modelId,
        choices: states.map((state, index) => ({
          index,
          message: { role: 'assistant', content: state.content },
          logprobs: formatLogprobs(state.logprobs),
          finish_reason: state.finishReason,
        })),
        usage: usageOf([promptTokens.length], completionTokens),
      };
      server.send(exchange, 200, response);
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
