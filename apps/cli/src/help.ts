import type { Command } from 'commander';

/** One usage example: the command line, and optionally what it does. */
export type Example = string | { command: string; description: string };

const examplesByCommand = new WeakMap<Command, Example[]>();

/**
 * Adds an "Examples:" section to a command's `--help`. Every command must have at least one
 * (the CLI's own test checks it):
 *
 *   addExamples(command, [
 *     { command: 'switchyard plan --model fixtures/checkpoints/tiny-mixtral --slo-ms 500', description: 'plan under a 500 ms SLO' },
 *   ]);
 */
export function addExamples(command: Command, examples: readonly Example[]): Command {
  const list = [...(examplesByCommand.get(command) ?? []), ...examples];
  const firstAdd = !examplesByCommand.has(command);
  examplesByCommand.set(command, list);
  if (firstAdd) command.addHelpText('after', () => formatExamples(examplesByCommand.get(command) ?? []));
  return command;
}

/** The examples registered for a command (for tests and docs). */
export function examplesOf(command: Command): readonly Example[] {
  return examplesByCommand.get(command) ?? [];
}

export function formatExamples(examples: readonly Example[]): string {
  if (examples.length === 0) return '';
  const lines = ['', 'Examples:'];
  for (const example of examples) {
    if (typeof example === 'string') lines.push(`  $ ${example}`);
    else lines.push(`  # ${example.description}`, `  $ ${example.command}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Adds the standard `--json` flag. Read it as `options.json`; `output.result()` honours it too. */
export function addJsonOption(command: Command): Command {
  return command.option('--json', 'print one JSON document on stdout (for scripts) instead of tables');
}

/** Every runnable command under `root` (commands without subcommands), with its full name. */
export function leafCommands(root: Command): Array<{ path: string[]; command: Command }> {
  const found: Array<{ path: string[]; command: Command }> = [];
  const walk = (command: Command, path: string[]): void => {
    if (command.commands.length === 0) {
      if (path.length > 0) found.push({ path, command });
      return;
    }
    for (const child of command.commands) walk(child, [...path, child.name()]);
  };
  walk(root, []);
  return found;
}
