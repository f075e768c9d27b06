import { startLocalRuntime } from '@switchyard/lambda-executor';
import type { CommandRegistrar } from './index.js';

/** `switchyard lambda serve`: the embedded Lambda-compatible runtime (and S3 API) on loopback. */
export const registerLambda: CommandRegistrar = (program, context) => {
  const lambda = program.command('lambda').description('the embedded Lambda-compatible runtime');
  lambda
    .command('serve')
    .description('serve the Lambda API subset and a path-style S3 API on 127.0.0.1 until interrupted')
    .option('--port <port>', 'Lambda API port', '9001')
    .option('--s3-port <port>', 'S3 API port (0 = any free port)', '0')
    .option('--account-concurrency <n>', 'account-wide concurrent executions', '1000')
    .option('--idle-timeout-ms <ms>', 'reclaim idle function instances after this long', '60000')
    .option('--cpu-emulation <mode>', 'vCPU emulation: scale | threads | off', 'scale')
    .action(async (flags: Record<string, string>) => {
      const runtime = await startLocalRuntime({
        port: Number(flags.port),
        s3Port: Number(flags.s3Port),
        accountConcurrency: Number(flags.accountConcurrency),
        idleTimeoutMs: Number(flags.idleTimeoutMs),
        cpuEmulation: flags.cpuEmulation as 'scale' | 'threads' | 'off',
        logger: context.logger,
      });
      context.output.json({ endpoint: runtime.endpoint, s3Endpoint: runtime.s3Endpoint });
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await runtime.stop();
    });
};
