import type { Logger } from '@switchyard/core';
import { serve, servingConfiguration } from '@switchyard/serving/http';
import pino from 'pino';
import { bundledModelDir, readServerEnv } from './env.js';

/** `node dist/main.js`: configuration from environment variables only (see README). */
async function main(): Promise<void> {
  const env = readServerEnv();
  const pinoLogger = pino({ level: env.logLevel });
  const logger: Logger = {
    debug: (message, fields) => pinoLogger.debug(fields ?? {}, message),
    warn: (message, fields) => pinoLogger.warn(fields ?? {}, message),
    error: (message, fields) => pinoLogger.error(fields ?? {}, message),
  };
  const { serving, server } = servingConfiguration(env.settings, {
    modelDir: env.settings.modelDir ?? bundledModelDir(),
  });
  const stack = await serve(serving, server, { logger });
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
