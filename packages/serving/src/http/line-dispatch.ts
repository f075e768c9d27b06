import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { type Logger, noopLogger, parseWithSchema } from '@switchyard/core';
import type { Engine } from '../engine.js';
import { HttpError } from '../errors.js';
import { withJobPriority } from '../job-priority.js';
import type { StatusProviders } from '../status.js';
import { toErrorResponse } from './error-response.js';
import type { Route } from './router.js';
import { chatCompletionsRoute } from './routes/chat-completions.js';
import { completionsRoute } from './routes/completions.js';
import { type Exchange, ServerContext } from './server-context.js';
import { type ServerOptions, serverOptionsSchema } from './server-options.js';

/** What one request line got: the HTTP status and JSON body the server would have answered with. */
export interface LineResponse {
  statusCode: number;
  body: unknown;
}

/** Runs OpenAI request bodies through the server's own routes, in process (no socket). */
export interface LineDispatcher {
  /** The URLs a line may name. */
  readonly urls: readonly string[];
  dispatch(url: string, body: unknown): Promise<LineResponse>;
}

export interface LineDispatcherDependencies {
  engine: Engine;
  status?: StatusProviders;
  logger?: Logger;
}

/**
 * The response side of an in-memory exchange: just what the routes use of a `ServerResponse` for an
 * answer that is not streamed (status and headers once, then the whole body).
 */
class MemoryResponse extends EventEmitter {
  headersSent = false;
  writableFinished = false;
  statusCode = 0;
  text = '';
  readonly finished: Promise<void>;
  private resolveFinished!: () => void;

  constructor() {
    super();
    this.finished = new Promise((resolve) => {
      this.resolveFinished = resolve;
    });
  }

  writeHead(statusCode: number): this {
    this.statusCode = statusCode;
    this.headersSent = true;
    return this;
  }

  end(text?: string): this {
    if (text !== undefined) this.text += text;
    this.writableFinished = true;
    this.emit('finish');
    this.emit('close');
    this.resolveFinished();
    return this;
  }
}

/**
 * A dispatcher for batch lines: the same validation, limits, error bodies and response bodies as
 * `/v1/completions` and `/v1/chat/completions` over HTTP, because it runs those routes. Streaming is
 * refused (a batch line gets one whole response); there is no rate limit, and the request timeout is a
 * day unless `serverOptions` says otherwise.
 */
export function createLineDispatcher(
  { engine, status = {}, logger = noopLogger }: LineDispatcherDependencies,
  serverOptions: ServerOptions = {},
): LineDispatcher {
  const options = parseWithSchema(
    serverOptionsSchema,
    { rateLimitPerMinute: 0, requestTimeoutMs: 86_400_000, maxBodyBytes: 16_777_216, ...serverOptions },
    'batch server options',
    'INVALID_CONFIG',
  );
  const context = new ServerContext(engine, status, options, logger);
  const routes: Record<string, Route> = {
    '/v1/completions': completionsRoute(context),
    '/v1/chat/completions': chatCompletionsRoute(context),
  };
  return {
    urls: Object.keys(routes),
    async dispatch(url, body) {
      const route = routes[url];
      if (!route) {
        throw new HttpError({
          code: 'INVALID_INPUT',
          message: `A batch line may POST to ${Object.keys(routes).join(' or ')}, not ${url}.`,
          param: 'url',
        });
      }
      if (typeof body === 'object' && body !== null && (body as { stream?: unknown }).stream === true) {
        const error = new HttpError({
          code: 'INVALID_INPUT',
          message: 'stream is not supported in a batch: each line gets one whole response.',
          param: 'stream',
          apiCode: 'invalid_value',
        });
        return { statusCode: 400, body: toErrorResponse(error).body };
      }
      const text = JSON.stringify(body);
      const request = Readable.from([Buffer.from(text)]) as unknown as IncomingMessage;
      Object.assign(request, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) },
        complete: true,
      });
      const response = new MemoryResponse();
      const exchange: Exchange = {
        request,
        response: response as unknown as ServerResponse,
        url: new URL(url, 'http://batch'),
        route: url,
      };
      try {
        await withJobPriority('batch', () => route.run(exchange, 'batch'));
      } catch (error) {
        if (!response.headersSent) context.sendError(exchange, error);
      }
      await response.finished;
      return { statusCode: response.statusCode, body: JSON.parse(response.text) as unknown };
    },
  };
}
