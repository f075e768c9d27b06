import type { Logger } from '@switchyard/core';
import pino from 'pino';
import { readServerEnv, serverOptionsFromEnv } from './env.js';
import { bundledModelDir, serve } from './serve.js';

/** `node dist/main.js`: configuration from environment variables only (see README). */
async function main(): Promise<void> {
  const env = readServerEnv();
  const pinoLogger = pino({ level: env.SWITCHYARD_LOG_LEVEL });
  const logger: Logger = {
    debug: (message, fields) => pinoLogger.debug(fields ?? {}, message),
    warn: (message, fields) => pinoLogger.warn(fields ?? {}, message),
    error: (message, fields) => pinoLogger.error(fields ?? {}, message),
  };
  const modelDir = env.SWITCHYARD_MODEL_DIR ?? bundledModelDir();
  const stack = await serve(
    {
      modelDir,
      batching: env.SWITCHYARD_BATCHING,
      maxBatchSize: env.SWITCHYARD_MAX_BATCH_SIZE,
      ...(env.SWITCHYARD_THREADS === undefined ? {} : { threads: env.SWITCHYARD_THREADS }),
      ...(env.SWITCHYARD_SEED === undefined ? {} : { seed: env.SWITCHYARD_SEED }),
      ...(env.SWITCHYARD_PREDICTOR_TRACES ? { predictorTraces: env.SWITCHYARD_PREDICTOR_TRACES } : {}),
    },
    serverOptionsFromEnv(env),
    { logger },
  );
  pinoLogger.info(
    { url: stack.server.url, model: stack.engine.info.modelId, batching: stack.engine.info.batching },
    'listening',
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    pinoLogger.info({ signal }, 'draining in-flight requests');
    stack.close().then(
      () => {
        pinoLogger.info('stopped');
        process.exit(0);
      },
      (error) => {
        pinoLogger.error({ error: String(error) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error) => {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
