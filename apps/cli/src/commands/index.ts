import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { registerBench } from './bench.js';
import { chatCommand } from './chat.js';
import { registerCost } from './cost.js';
import { registerDemo } from './demo.js';
import { registerDeploy } from './deploy.js';
import { registerDoctor } from './doctor.js';
import { evalCommand } from './eval.js';
import { generateCommand } from './generate.js';
import { inspectCommand } from './inspect.js';
import { registerLambda } from './lambda.js';
import { registerPlan } from './plan.js';
import { registerPredict } from './predict.js';
import { registerProfile } from './profile.js';
import { registerReport } from './report.js';
import { registerRunBatch } from './run-batch.js';
import { registerServe } from './serve.js';
import { detokenizeCommand, tokenizeCommand } from './tokenize.js';
import { traceCommand } from './trace.js';
import { verifyCommand } from './verify.js';

/** A command registers itself on the program; its action does the wiring and printing only. */
export type CommandRegistrar = (program: Command, context: CliContext) => void;

/**
 * Every `switchyard` verb. Add one line per command file. Each command must call `addExamples`
 * and `addJsonOption` from `../help.js`; the CLI's tests check both and run every command here
 * with bad input.
 */
// biome-ignore format: one line per command keeps concurrent additions from conflicting
export const commands: CommandRegistrar[] = [
  registerBench,
  registerCost,
  registerDemo,
  registerLambda,
  registerDeploy,
  registerDoctor,
  registerReport,
  registerPlan,
  registerPredict,
  registerProfile,
  inspectCommand,
  verifyCommand,
  generateCommand,
  traceCommand,
  registerServe,
  evalCommand,
  tokenizeCommand,
  detokenizeCommand,
  chatCommand,
  registerRunBatch,
];
