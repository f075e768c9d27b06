import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommanderError } from 'commander';
import pino from 'pino';
import type { CliContext } from './context.js';
import { quietThirdPartyNotices, readEnv } from './env.js';
import { describeFailure, usageExitCode } from './exit-codes.js';
import { createOutput } from './output.js';
import { createProgram } from './program.js';

function findFixtures(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(resolve(dir, 'fixtures/checkpoints'))) return resolve(dir, 'fixtures');
    dir = dirname(dir);
  }
  return resolve(process.cwd(), 'fixtures');
}

/** Writes the one-line error (and, with --verbose, the stack and causes) and returns the exit code. */
function reportFailure(error: unknown, verbose: boolean): number {
  const failure = describeFailure(error);
  const prefix = failure.code === 'INTERNAL' ? 'error' : `error [${failure.code}]`;
  process.stderr.write(`${prefix}: ${failure.message}\n`);
  if (verbose) {
    let current: unknown = error;
    for (let depth = 0; current instanceof Error && depth < 5; depth++) {
      process.stderr.write(`${depth === 0 ? '' : 'caused by: '}${current.stack ?? current.message}\n`);
      current = current.cause;
    }
  }
  return failure.exitCode;
}

export async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  let context: CliContext | undefined;
  try {
    quietThirdPartyNotices(verbose);
    const env = readEnv();
    const noColor = (env.NO_COLOR !== undefined && env.NO_COLOR !== '') || argv.includes('--no-color');
    const output = createOutput({ stdout: process.stdout, stderr: process.stderr, noColor });
    const logger = pino({ level: verbose ? 'debug' : env.SWITCHYARD_LOG_LEVEL }, pino.destination(2));
    context = {
      output,
      env,
      fixturesDir: findFixtures(),
      logger: {
        debug: (message, fields) => logger.debug(fields ?? {}, message),
        warn: (message, fields) => logger.warn(fields ?? {}, message),
        error: (message, fields) => logger.error(fields ?? {}, message),
      },
    };
    const program = createProgram(context);
    if (argv.length === 0) {
      program.outputHelp();
      return 0;
    }
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    context?.output.clearProgress();
    if (error instanceof CommanderError) {
      // Commander already printed its one line (see program.ts); help and --version exit 0.
      return error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.exitCode === 0
        ? 0
        : usageExitCode;
    }
    return reportFailure(error, verbose);
  }
}

const invokedDirectly = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly || process.argv[1]?.endsWith('/switchyard')) {
  const verbose = process.argv.includes('--verbose');
  // Failures outside a command's promise chain (a stray socket error, say) still end in one line.
  process.on('uncaughtException', (error) => {
    process.exitCode = reportFailure(error, verbose);
    process.exit();
  });
  process.on('unhandledRejection', (error) => {
    process.exitCode = reportFailure(error, verbose);
    process.exit();
  });
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
