import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type DeploymentPlan,
  describeError,
  type Logger,
  noopLogger,
  parseWithSchema,
  SwitchyardError,
} from '@switchyard/core';
import { dashboardHtml } from './dashboard.js';
import type { CompletionEvent, Engine } from './engine.js';
import { ServerError, toErrorResponse } from './errors.js';
import {
  isLoopbackHost,
  type ServerOptions,
  type ServerOptionsInput,
  serverOptionsSchema,
} from './options.js';
import { RateLimiter } from './rate-limit.js';
import { type CompletionRequest, type CompletionResponse, completionRequestSchema } from './schemas.js';
import { ServerMetrics, type StatusProviders } from './server-metrics.js';

export interface ServerDependencies extends StatusProviders {
  engine: Engine;
  logger?: Logger;
  /** The active deployment plan when experts run on functions. */
  deployment?: () => DeploymentPlan | undefined;
}

export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  port: number;
  options: ServerOptions;
  metrics: ServerMetrics;
  /** Stops accepting connections, waits for in-flight requests (up to `shutdownGraceMs`), then closes. */
  close(): Promise<void>;
}

interface RequestContext {
  request: IncomingMessage;
  response: ServerResponse;
  url: URL;
  route: string;
}

const jsonHeaders = { 'content-type': 'application/json; charset=utf-8' };

function hashKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/**
 * Starts the OpenAI-compatible HTTP server over an engine. Refuses to bind beyond loopback without
 * API keys. The caller owns the engine and closes it after the server.
 */
export async function startServer(
  dependencies: ServerDependencies,
  optionsInput: ServerOptionsInput = {},
): Promise<RunningServer> {
  const options = parseWithSchema(serverOptionsSchema, optionsInput, 'server options', 'INVALID_CONFIG');
  if (!isLoopbackHost(options.host) && options.apiKeys.length === 0) {
    throw new SwitchyardError({
      code: 'INVALID_CONFIG',
      message: `refusing to listen on ${options.host} without API keys: set SWITCHYARD_API_KEYS or bind to 127.0.0.1`,
      location: 'host',
    });
  }
  const { engine } = dependencies;
  const logger = dependencies.logger ?? noopLogger;
  const modelId = options.modelName ?? engine.info.modelId;
  const metrics = new ServerMetrics(engine, dependencies, options.historyLength);
  const unsubscribe = engine.onStep((event) => metrics.recordStep(event));
  const keyHashes = options.apiKeys.map(hashKey);
  const limiter =
    options.rateLimitPerMinute > 0
      ? new RateLimiter({ requestsPerMinute: options.rateLimitPerMinute, burst: options.rateLimitBurst })
      : undefined;
  const inFlight = new Set<AbortController>();
  const createdS = Math.floor(Date.now() / 1000);
  let draining = false;

  const send = (
    context: RequestContext,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    metrics.requests.inc({ route: context.route, status });
    if (context.response.headersSent) {
      context.response.end();
      return;
    }
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    context.response.writeHead(status, {
      ...(typeof body === 'string' ? {} : jsonHeaders),
      ...(draining ? { connection: 'close' } : {}),
      ...headers,
    });
    context.response.end(text);
  };

  const sendError = (context: RequestContext, error: unknown): void => {
    const { status, headers, body } = toErrorResponse(error);
    if (status >= 500) logger.error('request failed', { route: context.route, error: describeError(error) });
    send(context, status, body, headers);
  };

  /** Bearer-token check; returns the rate-limit key (the token, or the client address without auth). */
  const authenticate = (context: RequestContext): string => {
    if (keyHashes.length === 0) return context.request.socket.remoteAddress ?? 'unknown';
    const header = context.request.headers.authorization;
    const match = header ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
    if (!match) {
      throw new ServerError({
        code: 'UNAUTHORIZED',
        message: "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.",
        apiCode: 'missing_api_key',
      });
    }
    const presented = hashKey(match[1]!);
    if (!keyHashes.some((hash) => timingSafeEqual(hash, presented))) {
      throw new ServerError({
        code: 'UNAUTHORIZED',
        message: 'Incorrect API key provided.',
        apiCode: 'invalid_api_key',
      });
    }
    return `key:${presented.toString('hex')}`;
  };

  const rateLimit = (key: string): void => {
    const decision = limiter?.take(key);
    if (decision && !decision.allowed) {
      metrics.rateLimited.inc();
      throw new ServerError({
        code: 'RATE_LIMITED',
        message: `Rate limit reached: ${options.rateLimitPerMinute} requests per minute (burst ${options.rateLimitBurst}). Retry after ${Math.ceil(decision.retryAfterMs / 1000)} s.`,
        apiCode: 'rate_limit_exceeded',
        headers: { 'retry-after': String(Math.ceil(decision.retryAfterMs / 1000)) },
      });
    }
  };

  const readBody = async (request: IncomingMessage): Promise<string> => {
    const tooLarge = () =>
      new ServerError({
        code: 'PAYLOAD_TOO_LARGE',
        message: `request body exceeds ${options.maxBodyBytes} bytes`,
        apiCode: 'request_too_large',
      });
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > options.maxBodyBytes) throw tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > options.maxBodyBytes) throw tooLarge();
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  };

  const parseCompletion = (text: string): CompletionRequest => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new ServerError({
        code: 'INVALID_INPUT',
        message: `We could not parse the JSON body of your request: ${describeError(error)}`,
        apiCode: 'invalid_json',
        cause: error,
      });
    }
    const result = completionRequestSchema.safeParse(json);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      const param = issue.path.length > 0 ? issue.path.join('.') : undefined;
      throw new ServerError({
        code: 'INVALID_INPUT',
        message: param
          ? `Invalid value for '${param}': ${issue.message}`
          : `Invalid request body: ${issue.message}`,
        ...(param ? { param } : {}),
        apiCode: 'invalid_value',
        cause: result.error,
      });
    }
    return result.data;
  };

  const completion = async (context: RequestContext, rateKey: string): Promise<void> => {
    const receivedMs = performance.now();
    const body = parseCompletion(await readBody(context.request));
    rateLimit(rateKey);
    if (body.model !== undefined && body.model !== modelId) {
      throw new ServerError({
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
      throw new ServerError({ code: 'INVALID_INPUT', message: 'The prompt is empty.', param: 'prompt' });
    }
    if (promptTokens > options.maxPromptTokens) {
      throw new ServerError({
        code: 'INVALID_INPUT',
        message: `The prompt is ${promptTokens} tokens; this server accepts at most ${options.maxPromptTokens}.`,
        param: 'prompt',
        apiCode: 'prompt_too_long',
      });
    }
    if (maxTokens > options.maxTokens) {
      throw new ServerError({
        code: 'INVALID_INPUT',
        message: `max_tokens is ${maxTokens}; this server allows at most ${options.maxTokens}.`,
        param: 'max_tokens',
        apiCode: 'invalid_value',
      });
    }
    const context_ = engine.info.maxContextTokens;
    if (promptTokens + maxTokens > context_) {
      throw new ServerError({
        code: 'INVALID_INPUT',
        message: `This model's maximum context length is ${context_} tokens, but you requested ${promptTokens + maxTokens} (${promptTokens} in the prompt, ${maxTokens} for the completion).`,
        param: 'max_tokens',
        apiCode: 'context_length_exceeded',
      });
    }
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, options.requestTimeoutMs);
    const onClose = () => {
      if (!context.response.writableFinished) controller.abort();
    };
    context.response.on('close', onClose);
    inFlight.add(controller);
    metrics.inFlight = inFlight.size;
    const id = `cmpl-${randomUUID().replaceAll('-', '')}`;
    const created = Math.floor(Date.now() / 1000);
    const stopList = body.stop === undefined || body.stop === null ? [] : [body.stop].flat();
    const events = engine.complete({
      prompt,
      maxTokens,
      temperature: body.temperature ?? 1,
      topP: body.top_p ?? 1,
      ...(body.seed === undefined || body.seed === null ? {} : { seed: body.seed }),
      stop: stopList,
      signal: controller.signal,
    });
    const envelope = (text: string, finishReason: 'stop' | 'length' | null): CompletionResponse => ({
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
    const account = (event: Extract<CompletionEvent, { type: 'done' }>) => {
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
        ? new ServerError({
            code: 'TIMEOUT',
            message: `The completion took longer than ${options.requestTimeoutMs} ms and was cancelled.`,
            apiCode: 'timeout',
          })
        : error;
    try {
      if (body.stream) {
        const write = async (payload: string): Promise<void> => {
          if (!context.response.write(payload)) {
            await new Promise<void>((resolve) => {
              const done = () => {
                context.response.off('drain', done);
                context.response.off('close', done);
                resolve();
              };
              context.response.on('drain', done);
              context.response.on('close', done);
            });
          }
        };
        context.response.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
          'x-accel-buffering': 'no',
          ...(draining ? { connection: 'close' } : {}),
        });
        context.response.flushHeaders();
        try {
          for await (const event of events) {
            if (context.response.destroyed) break;
            noteToken(event);
            if (event.type === 'text') {
              await write(`data: ${JSON.stringify(envelope(event.text, null))}\n\n`);
            } else {
              const usage = account(event);
              await write(`data: ${JSON.stringify(envelope('', event.finishReason))}\n\n`);
              if (body.stream_options?.include_usage) {
                await write(`data: ${JSON.stringify({ ...envelope('', null), choices: [], usage })}\n\n`);
              }
              await write('data: [DONE]\n\n');
            }
          }
          metrics.requests.inc({ route: context.route, status: 200 });
        } catch (error) {
          // Headers are gone: report the failure as an error event, as OpenAI's stream does.
          const { status, body: errorBody } = toErrorResponse(failure(error));
          metrics.requests.inc({ route: context.route, status });
          if (!context.response.destroyed) await write(`data: ${JSON.stringify(errorBody)}\n\n`);
        }
        context.response.end();
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
      send(context, 200, result);
    } finally {
      clearTimeout(timer);
      context.response.off('close', onClose);
      inFlight.delete(controller);
      metrics.inFlight = inFlight.size;
    }
  };

  const stats = () => {
    const billing = metrics.billing();
    const predictor = dependencies.predictor?.();
    const engineStats = engine.stats();
    return {
      object: 'stats',
      model: modelId,
      engine: engine.info,
      uptimeSeconds: metrics.uptimeSeconds(),
      totals: {
        requests: metrics.requests.total(),
        promptTokens: metrics.promptTokens.total(),
        completionTokens: metrics.completionTokens.total(),
        decodeSteps: engineStats.decodeSteps,
        billedGbSeconds: billing.billedGbSeconds,
        costUsd: billing.costUsd,
        invocations: billing.invocations,
        retries: billing.retries,
        rateLimited: metrics.rateLimited.total(),
      },
      current: {
        tokensPerSecond: metrics.tokensPerSecond(),
        inFlightRequests: inFlight.size,
        activeSequences: engineStats.activeSequences,
        queuedSequences: engineStats.queuedSequences,
        latencyP50Seconds: metrics.requestDuration.quantile(0.5),
        latencyP99Seconds: metrics.requestDuration.quantile(0.99),
        predictorHitRate: predictor?.hitRate ?? null,
      },
      experts: {
        moeLayers: engine.info.moeLayers,
        numExperts: engine.info.numExperts,
        load: metrics.expertLoad(),
      },
      deployment: dependencies.deployment?.() ?? null,
      history: metrics.history,
    };
  };

  const handle = async (context: RequestContext): Promise<void> => {
    const { request, url } = context;
    const method = request.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const routes: Record<string, { method: string; open?: boolean; run: (rateKey: string) => unknown }> = {
      '/healthz': {
        method: 'GET',
        open: true,
        run: () =>
          draining
            ? send(context, 503, { status: 'draining' })
            : send(context, 200, { status: 'ok', model: modelId, ...engine.stats() }),
      },
      '/': {
        method: 'GET',
        open: true,
        run: () => send(context, 302, '', { location: '/dashboard' }),
      },
      '/dashboard': {
        method: 'GET',
        open: true,
        run: () =>
          send(context, 200, dashboardHtml, {
            'content-type': 'text/html; charset=utf-8',
            'content-security-policy':
              "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
          }),
      },
      '/metrics': {
        method: 'GET',
        open: options.publicMetrics,
        run: () =>
          send(context, 200, metrics.registry.render(), {
            'content-type': 'text/plain; version=0.0.4; charset=utf-8',
          }),
      },
      '/v1/models': {
        method: 'GET',
        run: (key) => {
          rateLimit(key);
          send(context, 200, {
            object: 'list',
            data: [{ id: modelId, object: 'model', created: createdS, owned_by: 'switchyard' }],
          });
        },
      },
      [`/v1/models/${modelId}`]: {
        method: 'GET',
        run: (key) => {
          rateLimit(key);
          send(context, 200, { id: modelId, object: 'model', created: createdS, owned_by: 'switchyard' });
        },
      },
      '/v1/deployment': {
        method: 'GET',
        run: (key) => {
          rateLimit(key);
          send(context, 200, {
            object: 'deployment',
            expertPlacement: engine.info.expertPlacement,
            plan: dependencies.deployment?.() ?? null,
            ...(dependencies.adaptation ? { adaptation: dependencies.adaptation() } : {}),
          });
        },
      },
      '/v1/stats': { method: 'GET', run: () => send(context, 200, stats()) },
      '/v1/completions': {
        method: 'POST',
        run: (key) => {
          if (draining) {
            throw new ServerError({
              code: 'ABORTED',
              message: 'The server is shutting down.',
              apiCode: 'shutting_down',
            });
          }
          return completion(context, key);
        },
      },
    };
    const route = routes[decodeURIComponent(path)];
    context.route = route ? path : 'unknown';
    if (!route) {
      throw new ServerError({
        code: 'NOT_FOUND',
        message: `Unknown path ${method} ${path}.`,
        apiCode: 'not_found',
      });
    }
    if (method !== route.method && !(method === 'HEAD' && route.method === 'GET')) {
      throw new ServerError({
        code: 'INVALID_INPUT',
        message: `${method} is not allowed on ${path}; use ${route.method}.`,
        apiCode: 'method_not_allowed',
        status: 405,
        headers: { allow: route.method },
      });
    }
    const key = route.open ? (request.socket.remoteAddress ?? 'unknown') : authenticate(context);
    await route.run(key);
  };

  const server: Server = createServer({ keepAliveTimeout: 5_000 }, (request, response) => {
    const context: RequestContext = {
      request,
      response,
      url: new URL(request.url ?? '/', 'http://localhost'),
      route: 'unknown',
    };
    handle(context).catch((error) => {
      if (response.headersSent) {
        response.end();
        return;
      }
      sendError(context, error);
      // A body we refused to read is still arriving: close the connection after answering.
      if (!request.complete) response.once('finish', () => request.destroy());
    });
  });
  // Slow clients cannot hold a socket forever (headers, then the whole request).
  server.headersTimeout = 30_000;
  server.requestTimeout = options.requestTimeoutMs + 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        new SwitchyardError({
          code: 'INVALID_CONFIG',
          message: `cannot listen on ${options.host}:${options.port}: ${describeError(error)}`,
          cause: error,
        }),
      ),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const sampler = setInterval(() => metrics.sample(), options.historyIntervalMs);
  sampler.unref();
  metrics.sample();
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  logger.debug('listening', { host: options.host, port: address.port });

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    draining = true;
    clearInterval(sampler);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const deadline = Date.now() + options.shutdownGraceMs;
    while (inFlight.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      server.closeIdleConnections();
    }
    if (inFlight.size > 0) {
      logger.warn('shutdown grace period over: cancelling requests', { requests: inFlight.size });
      for (const controller of inFlight) controller.abort();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    server.closeAllConnections();
    await closed;
    unsubscribe();
  };

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    options,
    metrics,
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}
