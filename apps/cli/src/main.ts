import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SwitchyardError } from '@switchyard/core';
import { Command, CommanderError } from 'commander';
import pino from 'pino';
import { commands } from './commands/index.js';
import type { CliContext } from './context.js';
import { readEnv } from './env.js';
import { exitCodeFor } from './exit-codes.js';
import { createOutput } from './output.js';

function findFixtures(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(resolve(dir, 'fixtures/checkpoints'))) return resolve(dir, 'fixtures');
    dir = dirname(dir);
  }
  return resolve(process.cwd(), 'fixtures');
}

export async function main(argv: string[]): Promise<number> {
  const env = readEnv();
  const verbose = argv.includes('--verbose');
  const noColor = env.NO_COLOR !== undefined || argv.includes('--no-color');
  const output = createOutput({ stdout: process.stdout, stderr: process.stderr, noColor });
  const logger = pino({ level: verbose ? 'debug' : env.SWITCHYARD_LOG_LEVEL }, pino.destination(2));
  const context: CliContext = {
    output,
    env,
    fixturesDir: findFixtures(),
    logger: {
      debug: (message, fields) => logger.debug(fields ?? {}, message),
      warn: (message, fields) => logger.warn(fields ?? {}, message),
      error: (message, fields) => logger.error(fields ?? {}, message),
    },
  };
  const program = new Command('switchyard')
    .description(
      'Serve Mixture-of-Experts models on serverless functions at the lowest billed cost that meets a latency target.',
    )
    .option('--verbose', 'print debug logs and stack traces')
    .option('--no-color', 'never use colour')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  for (const register of commands) register(program, context);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.exitCode === 0
        ? 0
        : 2;
    }
    const prefix = SwitchyardError.isInstance(error) ? `error [${error.code}]` : 'error';
    process.stderr.write(`${prefix}: ${error instanceof Error ? error.message : String(error)}\n`);
    if (verbose && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return exitCodeFor(error);
  }
}

const invokedDirectly = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly || process.argv[1]?.endsWith('/switchyard')) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
