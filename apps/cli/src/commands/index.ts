import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { registerPredict } from './predict.js';

/** A command registers itself on the program; its action does the wiring and printing only. */
export type CommandRegistrar = (program: Command, context: CliContext) => void;

/** Every `switchyard` verb. Add one line per command file. */
export const commands: CommandRegistrar[] = [registerPredict];
