import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { delay, describeError, type Logger, noopLogger, parseWithSchema } from '@switchyard/core';
import type { Engine } from '../engine.js';
import { ServingError } from '../errors.js';
import type { StatusProviders } from '../status.js';
import { batchApiRoutes } from './batch-api/batch-routes.js';
import { BatchService } from './batch-api/batch-service.js';
import { BatchStore } from './batch-api/batch-store.js';
import { createLineDispatcher } from './line-dispatch.js';
import { createRouter } from './router.js';
import { type Exchange, ServerContext } from './server-context.js';
import type { ServerMetrics } from './server-metrics.js';
import {
  isLoopbackHost,
  type ResolvedServerOptions,
  type ServerOptions,
  serverOptionsSchema,
} from './server-options.js';

export interface ServerDependencies {
  engine: Engine;
  /** What the stack reports beyond the engine (billing, adaptation, predictor, active plan). */
  status?: StatusProviders;
  logger?: Logger;
}

export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  port: number;
  options: ResolvedServerOptions;
  metrics: ServerMetrics;
  /** Stops accepting connections, waits for in-flight requests (up to `shutdownGraceMs`), then closes. */
  close(): Promise<void>;
}

/**
 * Starts the OpenAI-compatible HTTP server over an engine. Refuses to bind beyond loopback without
 * API keys. The caller owns the engine and closes it after the server.
 */
export async function startServer(
  { engine, status = {}, logger = noopLogger }: ServerDependencies,
  optionsInput: ServerOptions = {},
): Promise<RunningServer> {
  const options = parseWithSchema(serverOptionsSchema, optionsInput, 'server options', 'INVALID_CONFIG');
  if (!isLoopbackHost(options.host) && options.apiKeys.length === 0) {
    throw new ServingError({
      code: 'INVALID_CONFIG',
      message: `refusing to listen on ${options.host} without API keys: set apiKeys (SWITCHYARD_API_KEYS) or bind to 127.0.0.1`,
      location: 'host',
    });
  }
  if (options.chat && !engine.tokenizer.hasChatTemplate) {
    throw new ServingError({
      code: 'INVALID_CONFIG',
      message: `chat serving needs a chat template, and ${engine.info.modelId} has none (no chat_template in tokenizer_config.json, no chat_template.jinja)`,
      location: 'chat',
    });
  }
  const context = new ServerContext(engine, status, options, logger);
  const { metrics } = context;
  const unsubscribe = engine.onStep((event) => metrics.recordStep(event));
  // The Batch API runs batch lines through the same routes, in process, at a bounded concurrency.
  const batches = options.dataDir
    ? new BatchService({
        store: new BatchStore(options.dataDir),
        dispatcher: createLineDispatcher(
          { engine, status, logger },
          {
            maxPromptTokens: options.maxPromptTokens,
            maxTokens: options.maxTokens,
            defaultMaxTokens: options.defaultMaxTokens,
            chat: options.chat,
            modelName: options.modelName,
          },
        ),
        engine,
        status,
        logger,
        concurrency: options.batchConcurrency,
      })
    : undefined;
  const route = createRouter(
    context,
    batches ? batchApiRoutes(context, batches, options.maxFileBytes) : undefined,
  );

  const server: Server = createServer({ keepAliveTimeout: 5_000 }, (request, response) => {
    const exchange: Exchange = {
      request,
      response,
      url: new URL(request.url ?? '/', 'http://localhost'),
      route: 'unknown',
    };
    route(exchange).catch((error) => {
      if (response.headersSent) {
        response.end();
        return;
      }
      context.sendError(exchange, error);
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
        new ServingError({
          code: 'INVALID_CONFIG',
          message: `cannot listen on ${options.host}:${options.port}: ${describeError(error)}`,
          cause: error,
        }),
      ),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  batches?.resume();
  const address = server.address() as AddressInfo;
  const sampler = setInterval(() => metrics.sample(), options.historyIntervalMs);
  sampler.unref();
  metrics.sample();
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  logger.debug('listening', { host: options.host, port: address.port });

  const close = async (): Promise<void> => {
    context.draining = true;
    clearInterval(sampler);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const deadline = Date.now() + options.shutdownGraceMs;
    while (context.inFlight.size > 0 && Date.now() < deadline) {
      await delay(20);
      server.closeIdleConnections();
    }
    if (context.inFlight.size > 0) {
      logger.warn('shutdown grace period over: cancelling requests', { requests: context.inFlight.size });
      for (const controller of context.inFlight) controller.abort();
      await delay(50);
    }
    server.closeAllConnections();
    await closed;
    await batches?.close();
    unsubscribe();
  };
  let closing: Promise<void> | undefined;
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
