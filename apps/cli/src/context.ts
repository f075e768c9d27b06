import type { Logger } from '@switchyard/core';
import type { CliEnv } from './env.js';
import type { Output } from './output.js';

/** What every command receives: output, a logger (to stderr) and the validated environment. */
export interface CliContext {
  output: Output;
  logger: Logger;
  env: CliEnv;
  /** Absolute path of the repository's bundled fixtures (model, traces), for defaults. */
  fixturesDir: string;
}
