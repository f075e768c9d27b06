import { startLocalRuntime } from '@switchyard/lambda-local';
import { Option } from 'commander';
import { addExamples, addJsonOption } from '../help.js';
import { parseIntegerOption, parsePositiveIntegerOption, parseShareOption } from '../io.js';
import type { CommandRegistrar } from './index.js';

interface ServeOptions {
  port: number;
  s3Port: number;
  accountConcurrency: number;
  idleTimeoutMs: number;
  cpuEmulation: 'scale' | 'threads' | 'off';
  runner: 'ric' | 'own';
  faultKillRate: number;
  faultFailRate: number;
  faultSeed: number;
  json?: boolean;
}

/** `switchyard lambda serve`: the embedded Lambda-compatible runtime (and S3 API) on loopback. */
export const registerLambda: CommandRegistrar = (program, context) => {
  const lambda = program.command('lambda').description('the embedded Lambda-compatible runtime');
  const serve = lambda
    .command('serve')
    .description('serve the Lambda API subset and a path-style S3 API on 127.0.0.1 until interrupted')
    .option('--port <port>', 'Lambda API port (0 = any free port)', parseIntegerOption, 9001)
    .option('--s3-port <port>', 'S3 API port (0 = any free port)', parseIntegerOption, 0)
    .option(
      '--account-concurrency <n>',
      'account-wide concurrent executions',
      parsePositiveIntegerOption,
      1000,
    )
    .option(
      '--idle-timeout-ms <ms>',
      'reclaim idle function instances after this long',
      parsePositiveIntegerOption,
      60_000,
    )
    .addOption(
      new Option('--cpu-emulation <mode>', 'vCPU emulation (see architecture/lambda-local.md)')
        .choices(['scale', 'threads', 'off'])
        .default('scale'),
    )
    .addOption(
      new Option(
        '--runner <runner>',
        "what runs function instances: the official aws-lambda-ric over the Lambda Runtime API, or Switchyard's own runner (ric falls back to own where it is not built)",
      )
        .choices(['ric', 'own'])
        .default('ric'),
    )
    .option(
      '--fault-kill-rate <share>',
      'chaos: SIGKILL the instance process during this share of invocations (0–1)',
      parseShareOption,
      0,
    )
    .option(
      '--fault-fail-rate <share>',
      'chaos: answer this share of invocations with an injected function error after they ran (0–1)',
      parseShareOption,
      0,
    )
    .option('--fault-seed <n>', 'seed of the fault draws', parseIntegerOption, 1);
  addJsonOption(serve);
  addExamples(serve, [
    { command: 'switchyard lambda serve', description: 'serve on http://127.0.0.1:9001 until Ctrl-C' },
    {
      command: 'switchyard lambda serve --port 0 --account-concurrency 16 --json',
      description: 'any free port, at most 16 function instances at once; prints the endpoints as JSON',
    },
    {
      command: 'switchyard lambda serve --fault-fail-rate 0.05 --fault-kill-rate 0.01',
      description: 'chaos: 5 % of invocations fail, 1 % lose their instance process to SIGKILL',
    },
  ]);
  serve.action(async (options: ServeOptions) => {
    const runtime = await startLocalRuntime({
      port: options.port,
      s3Port: options.s3Port,
      accountConcurrency: options.accountConcurrency,
      idleTimeoutMs: options.idleTimeoutMs,
      cpuEmulation: options.cpuEmulation,
      runner: options.runner,
      faults: { seed: options.faultSeed, killRate: options.faultKillRate, failRate: options.faultFailRate },
      logger: context.logger,
    });
    const result = { endpoint: runtime.endpoint, s3Endpoint: runtime.s3Endpoint, runner: runtime.runner };
    context.output.result(result, () => {
      context.output.line(`Lambda API  ${runtime.endpoint}`);
      context.output.line(`S3 API      ${runtime.s3Endpoint ?? '(off)'}`);
      context.output.line(`Runner      ${runtime.runner === 'ric' ? 'aws-lambda-ric' : 'own'}`);
      context.output.line('Ctrl-C to stop');
    });
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
