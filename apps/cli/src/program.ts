import { Command } from 'commander';
import { commands } from './commands/index.js';
import type { CliContext } from './context.js';
import { addExamples } from './help.js';
import { versionText } from './version.js';

function applySettings(command: Command, path: string[], context: CliContext): void {
  const name = ['switchyard', ...path].join(' ');
  command
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
      // Commander's messages sometimes span lines ("Did you mean …?"): keep them to one.
      outputError: (text, write) => {
        context.output.clearProgress();
        const message = text
          .split('\n')
          .map((part) => part.trim())
          .filter(Boolean)
          .join(' ');
        write(`${message} (see '${name} --help')\n`);
      },
    });
  for (const child of command.commands) applySettings(child, [...path, child.name()], context);
}

/** Builds the `switchyard` program with every registered command (shared by main.ts and tests). */
export function createProgram(context: CliContext): Command {
  const program = new Command('switchyard')
    .description(
      'Serve Mixture-of-Experts models on serverless functions at the lowest billed cost that meets a latency target.',
    )
    .version(versionText(), '--version', 'print the version of switchyard and its packages')
    .option('--verbose', 'print debug logs, and stack traces on errors')
    .option('--no-color', 'never use colour (also: NO_COLOR=1)');
  addExamples(program, [
    { command: 'switchyard demo', description: 'the whole system on the bundled Shakespeare model' },
    { command: 'switchyard <command> --help', description: 'usage and examples of one command' },
  ]);
  for (const register of commands) register(program, context);
  applySettings(program, [], context);
  program.hook('preAction', (_program, actionCommand) => {
    context.output.setJsonMode(Boolean(actionCommand.opts().json));
  });
  return program;
}
