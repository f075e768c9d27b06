import type { IncomingMessage, ServerResponse } from 'node:http';
import { describeError, type Logger } from '@switchyard/core';
import type { Engine } from '../engine.js';
import { HttpError } from '../errors.js';
import type { StatusProviders } from '../status.js';
import { toErrorResponse } from './error-response.js';
import { RateLimiter } from './rate-limit.js';
import { ServerMetrics } from './server-metrics.js';
import type { ResolvedServerOptions } from './server-options.js';

/** One request and its response; `route` labels the request in `/metrics` once it is known. */
export interface Exchange {
  request: IncomingMessage;
  response: ServerResponse;
  url: URL;
  route: string;
}

const jsonHeaders = { 'content-type': 'application/json; charset=utf-8' };

/** What every route shares: the engine, the options, metrics, rate limits and the draining state. */
export class ServerContext {
  /** Set on shutdown: new completions are refused and responses ask the client to close. */
  draining = false;
  /** Completion requests being served, to cancel when the shutdown grace period is over. */
  readonly inFlight = new Set<AbortController>();
  /** Unix seconds the server started (the model's `created`). */
  readonly createdS = Math.floor(Date.now() / 1000);
  readonly modelId: string;
  readonly metrics: ServerMetrics;
  private readonly limiter: RateLimiter | undefined;

  constructor(
    readonly engine: Engine,
    readonly status: StatusProviders,
    readonly options: ResolvedServerOptions,
    readonly logger: Logger,
  ) {
    this.modelId = options.modelName ?? engine.info.modelId;
    this.metrics = new ServerMetrics(engine, status, options.historyLength);
    this.limiter =
      options.rateLimitPerMinute > 0
        ? new RateLimiter({ requestsPerMinute: options.rateLimitPerMinute, burst: options.rateLimitBurst })
        : undefined;
  }

  /** Answers with `body` (JSON unless a string) and counts the request under its route and status. */
  send(exchange: Exchange, status: number, body: unknown, headers: Record<string, string> = {}): void {
    this.metrics.requests.inc({ route: exchange.route, status });
    if (exchange.response.headersSent) {
      exchange.response.end();
      return;
    }
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    exchange.response.writeHead(status, {
      ...(typeof body === 'string' ? {} : jsonHeaders),
      ...this.closeHeader(),
      ...headers,
    });
    exchange.response.end(text);
  }

  sendError(exchange: Exchange, error: unknown): void {
    const { status, headers, body } = toErrorResponse(error);
    if (status >= 500)
      this.logger.error('request failed', { route: exchange.route, error: describeError(error) });
    this.send(exchange, status, body, headers);
  }

  /** New generation requests are refused (503) once shutdown began. */
  refuseWhileDraining(): void {
    if (this.draining) {
      throw new HttpError({
        code: 'ABORTED',
        message: 'The server is shutting down.',
        apiCode: 'shutting_down',
      });
    }
  }

  /** `connection: close` while draining, so keep-alive clients reconnect elsewhere. */
  closeHeader(): Record<string, string> {
    return this.draining ? { connection: 'close' } : {};
  }

  /** Takes one request from `key`'s token bucket, or refuses with 429 and `Retry-After`. */
  rateLimit(key: string): void {
    const decision = this.limiter?.take(key);
    if (decision && !decision.allowed) {
      this.metrics.rateLimited.inc();
      const retryAfterS = Math.ceil(decision.retryAfterMs / 1000);
      throw new HttpError({
        code: 'RATE_LIMITED',
        message: `Rate limit reached: ${this.options.rateLimitPerMinute} requests per minute (burst ${this.options.rateLimitBurst}). Retry after ${retryAfterS} s.`,
        apiCode: 'rate_limit_exceeded',
        headers: { 'retry-after': String(retryAfterS) },
      });
    }
  }
}
