import { randomUUID } from 'node:crypto';
import type { CompletionEvent, FinishReason } from '../../engine.js';
import { HttpError } from '../../errors.js';
import { toErrorResponse } from '../error-response.js';
import { EventStream } from '../event-stream.js';
import { parseJsonBody, readBody } from '../request-body.js';
import type { Route } from '../router.js';
import { type CompletionRequest, type CompletionResponse, completionRequestSchema } from '../schemas.js';
import type { Exchange, ServerContext } from '../server-context.js';

type Usage = NonNullable<CompletionResponse['usage']>;

/** The prompt and `max_tokens` of a request, checked against the server's limits and the model's context. */
function checkedRequest(server: ServerContext, body: CompletionRequest) {
  const { options, engine, modelId } = server;
  if (body.model !== undefined && body.model !== modelId) {
    throw new HttpError({
      code: 'NOT_FOUND',
      message: `The model '${body.model}' does not exist; this server serves '${modelId}'.`,
      param: 'model',
      apiCode: 'model_not_found',
    });
  }
  const prompt = typeof body.prompt === 'string' ? body.prompt : body.prompt[0]!;
  const promptTokens = engine.countPromptTokens(prompt);
  const maxTokens = body.max_tokens ?? options.defaultMaxTokens;
  if (promptTokens === 0) {
    throw new HttpError({ code: 'INVALID_INPUT', message: 'The prompt is empty.', param: 'prompt' });
  }
  if (promptTokens > options.maxPromptTokens) {
    throw new HttpError({
      code: 'INVALID_INPUT',
      message: `The prompt is ${promptTokens} tokens; this server accepts at most ${options.maxPromptTokens}.`,
      param: 'prompt',
      apiCode: 'prompt_too_long',
    });
  }
  if (maxTokens > options.maxTokens) {
    throw new HttpError({
      code: 'INVALID_INPUT',
      message: `max_tokens is ${maxTokens}; this server allows at most ${options.maxTokens}.`,
      param: 'max_tokens',
      apiCode: 'invalid_value',
    });
  }
  const contextTokens = engine.info.maxContextTokens;
  if (promptTokens + maxTokens > contextTokens) {
    throw new HttpError({
      code: 'INVALID_INPUT',
      message: `This model's maximum context length is ${contextTokens} tokens, but you requested ${promptTokens + maxTokens} (${promptTokens} in the prompt, ${maxTokens} for the completion).`,
      param: 'max_tokens',
      apiCode: 'context_length_exceeded',
    });
  }
  return { prompt, maxTokens };
}

/**
 * `POST /v1/completions`: OpenAI's legacy completions, answered whole or streamed as server-sent
 * events. The request is cancelled when the client disconnects, after `requestTimeoutMs` (504), or
 * when the shutdown grace period ends.
 */
export function completionsRoute(server: ServerContext): Route {
  const { engine, metrics, options, modelId } = server;

  const complete = async (exchange: Exchange, rateKey: string): Promise<void> => {
    const receivedMs = performance.now();
    const body = parseJsonBody(
      await readBody(exchange.request, options.maxBodyBytes),
      completionRequestSchema,
    );
    server.rateLimit(rateKey);
    const { prompt, maxTokens } = checkedRequest(server, body);
    const { response } = exchange;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, options.requestTimeoutMs);
    const onClose = () => {
      if (!response.writableFinished) controller.abort();
    };
    response.on('close', onClose);
    server.inFlight.add(controller);
    metrics.inFlight = server.inFlight.size;
    const id = `cmpl-${randomUUID().replaceAll('-', '')}`;
    const created = Math.floor(Date.now() / 1000);
    const events = engine.complete({
      prompt,
      maxTokens,
      temperature: body.temperature ?? 1,
      topP: body.top_p ?? 1,
      seed: body.seed ?? undefined,
      stop: body.stop === undefined || body.stop === null ? [] : [body.stop].flat(),
      signal: controller.signal,
    });
    const envelope = (text: string, finishReason: FinishReason | null): CompletionResponse => ({
      id,
      object: 'text_completion',
      created,
      model: modelId,
      choices: [{ text, index: 0, logprobs: null, finish_reason: finishReason }],
    });
    let firstToken = true;
    const noteToken = (event: CompletionEvent) => {
      if (event.type === 'text' && firstToken) {
        firstToken = false;
        metrics.timeToFirstToken.observe((performance.now() - receivedMs) / 1000);
      }
    };
    const account = (event: Extract<CompletionEvent, { type: 'done' }>): Usage => {
      metrics.promptTokens.inc({}, event.promptTokens);
      metrics.completionTokens.inc({}, event.completionTokens);
      metrics.requestDuration.observe((performance.now() - receivedMs) / 1000);
      return {
        prompt_tokens: event.promptTokens,
        completion_tokens: event.completionTokens,
        total_tokens: event.promptTokens + event.completionTokens,
      };
    };
    const failure = (error: unknown): unknown =>
      timedOut
        ? new HttpError({
            code: 'TIMEOUT',
            message: `The completion took longer than ${options.requestTimeoutMs} ms and was cancelled.`,
            apiCode: 'timeout',
          })
        : error;
    try {
      if (body.stream) {
        const stream = new EventStream(response);
        stream.open(server.closeHeader());
        try {
          for await (const event of events) {
            if (stream.closed) break;
            noteToken(event);
            if (event.type === 'text') {
              await stream.send(envelope(event.text, null));
            } else {
              const usage = account(event);
              await stream.send(envelope('', event.finishReason));
              if (body.stream_options?.include_usage) {
                await stream.send({ ...envelope('', null), choices: [], usage });
              }
              await stream.done();
            }
          }
          metrics.requests.inc({ route: exchange.route, status: 200 });
        } catch (error) {
          // Headers are gone: report the failure as an error event, as OpenAI's stream does.
          const { status, body: errorBody } = toErrorResponse(failure(error));
          metrics.requests.inc({ route: exchange.route, status });
          if (!stream.closed) await stream.send(errorBody);
        }
        stream.end();
        return;
      }
      let text = '';
      let result: CompletionResponse | undefined;
      try {
        for await (const event of events) {
          noteToken(event);
          if (event.type === 'text') text += event.text;
          else result = { ...envelope(text, event.finishReason), usage: account(event) };
        }
      } catch (error) {
        throw failure(error);
      }
      server.send(exchange, 200, result);
    } finally {
      clearTimeout(timer);
      response.off('close', onClose);
      server.inFlight.delete(controller);
      metrics.inFlight = server.inFlight.size;
    }
  };

  return {
    method: 'POST',
    run: (exchange, rateKey) => {
      if (server.draining) {
        throw new HttpError({
          code: 'ABORTED',
          message: 'The server is shutting down.',
          apiCode: 'shutting_down',
        });
      }
      return complete(exchange, rateKey);
    },
  };
}
