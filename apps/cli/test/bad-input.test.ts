import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mapLimited, runCli } from '@switchyard/testing/cli';
import type { Command, Option } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliContext } from '../src/context.js';
import { examplesOf, formatExamples, leafCommands } from '../src/help.js';
import { createOutput } from '../src/output.js';
import { createProgram } from '../src/program.js';

/**
 * Every registered command, fed bad input in a real child process, must print exactly one line on
 * stderr, no stack trace, and exit non-zero. The commands come from the registry, so a new command
 * is covered as soon as it is added to `commands/index.ts`.
 */

const work = mkdtempSync(join(tmpdir(), 'switchyard-bad-input-'));
const missingPath = join(work, 'does-not-exist', 'input.json');
const malformedPath = join(work, 'malformed.json');
writeFileSync(malformedPath, '{"layers": [1, 2,');
afterAll(() => rmSync(work, { recursive: true, force: true }));

function quietContext(): CliContext {
  const sink = { write: () => true, isTTY: false } as unknown as NodeJS.WritableStream & { isTTY: boolean };
  return {
    output: createOutput({ stdout: sink as never, stderr: sink as never, noColor: true }),
    logger: { debug: () => {}, warn: () => {}, error: () => {} },
    env: { SWITCHYARD_LOG_LEVEL: 'silent' },
    fixturesDir: join(work, 'fixtures'),
  };
}

const program = createProgram(quietContext());
const leaves = leafCommands(program);

/** Value placeholders that name an input file or folder (see help.ts: `<file>`, `<dir>`, `<plan>`, …). */
const fileLike = /file|dir|path|json|plan|trace|checkpoint|predictor|profile|model/i;
const outputOption = /^--(out|output|out-dir|output-dir|save)\b/;

interface Slot {
  flag?: string;
  placeholder: string;
  required: boolean;
  variadic: boolean;
  /** The values a choice option takes (a required one is filled with the first). */
  choices?: readonly string[];
}

function optionSlots(command: Command): Slot[] {
  return (command.options as Option[])
    .filter((option) => option.required || option.optional)
    .filter((option) => option.long !== '--help')
    .map((option) => {
      const placeholder = /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1] ?? '';
      return {
        flag: option.long ?? option.short ?? '',
        placeholder,
        required: option.mandatory && option.defaultValue === undefined,
        variadic: option.variadic,
        choices: option.argChoices,
      };
    });
}

function argumentSlots(command: Command): Slot[] {
  return command.registeredArguments.map((argument) => ({
    placeholder: argument.name(),
    required: argument.required,
    variadic: argument.variadic,
  }));
}

function isFileSlot(slot: Slot): boolean {
  return fileLike.test(slot.placeholder) && !(slot.flag && outputOption.test(slot.flag));
}

/** Arguments for a command with every file-like slot set to `filePath` and other required slots filled. */
function argvFor(path: string[], command: Command, filePath: string | undefined): string[] {
  const argv = [...path];
  for (const slot of argumentSlots(command)) {
    if (filePath !== undefined && isFileSlot(slot)) argv.push(filePath);
    else if (slot.required) argv.push('1');
  }
  for (const slot of optionSlots(command)) {
    if (!slot.flag) continue;
    if (filePath !== undefined && isFileSlot(slot)) argv.push(slot.flag, filePath);
    else if (slot.required)
      argv.push(
        slot.flag,
        slot.choices?.[0] ?? (outputOption.test(slot.flag) ? join(work, 'out', slot.flag.slice(2)) : '1'),
      );
  }
  return argv;
}

function expectOneCleanLine(stderr: string, label: string): void {
  const lines = stderr.split('\n').filter((line) => line.trim() !== '');
  expect(lines, `${label}: stderr was\n${stderr}`).toHaveLength(1);
  expect(lines[0], label).toMatch(/^error/);
  expect(stderr, `${label}: no stack trace`).not.toMatch(/^\s+at\s/m);
}

interface Case {
  label: string;
  argv: string[];
  expectInMessage?: string;
}

const cases: Case[] = leaves.flatMap(({ path, command }) => {
  const name = path.join(' ');
  const list: Case[] = [
    {
      label: `${name}: unknown flag`,
      argv: [...argvFor(path, command, undefined), '--definitely-not-a-flag'],
      expectInMessage: '--definitely-not-a-flag',
    },
  ];
  const hasFileSlot = [...argumentSlots(command), ...optionSlots(command)].some(isFileSlot);
  if (hasFileSlot) {
    list.push(
      { label: `${name}: missing file`, argv: argvFor(path, command, missingPath) },
      { label: `${name}: malformed JSON file`, argv: argvFor(path, command, malformedPath) },
    );
  }
  return list;
});

describe('every command on bad input', () => {
  it('has commands registered', () => {
    expect(leaves.length).toBeGreaterThan(0);
  });

  it('prints one line without a stack trace and exits non-zero, in a child process', async () => {
    const runs = await mapLimited(cases, 2, async (item) => ({ item, run: await runCli(item.argv) }));
    for (const { item, run } of runs) {
      expect(run.code, `${item.label}: exit code (stderr: ${run.stderr})`).not.toBe(0);
      expect(run.code, `${item.label}: was not killed`).not.toBeNull();
      expectOneCleanLine(run.stderr, item.label);
      if (item.expectInMessage) expect(run.stderr, item.label).toContain(item.expectInMessage);
    }
  }, 600_000);

  it('prints the stack trace only with --verbose', async () => {
    const run = await runCli(['report', '--plan', malformedPath, '--verbose']);
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toMatch(/^error \[INVALID_INPUT\]: malformed JSON/);
    expect(run.stderr).toMatch(/^\s+at\s/m);
  });
});

describe('every command', () => {
  it.each(leaves.map(({ path, command }) => [path.join(' '), command] as const))(
    '%s has --help with an example',
    (_name, command) => {
      let help = '';
      command.configureOutput({ writeOut: (text) => (help += text), writeErr: (text) => (help += text) });
      command.outputHelp();
      expect(examplesOf(command).length).toBeGreaterThan(0);
      expect(help).toContain(formatExamples(examplesOf(command)).trim());
      expect(help).toMatch(/Examples:\n\s+(# .*\n\s+)?\$ switchyard /);
    },
  );
});
