import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseJson, parseWithSchema, SwitchyardError } from '@switchyard/core';
import { InvalidArgumentError } from 'commander';
import type { z } from 'zod';

/**
 * Small helpers so every command reports bad input the same way: one line saying what was wrong,
 * where, and what to do (main.ts prints it and maps the code to an exit code).
 */

function notFound(path: string, what: string, hint: string): SwitchyardError {
  return new SwitchyardError({ code: 'NOT_FOUND', message: `${what} not found: ${path}${hint}` });
}

/** Checks that `path` is an existing file and returns it resolved. */
export function requireFile(path: string, what = 'file'): string {
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw notFound(path, what, '');
  if (!statSync(absolute).isFile())
    throw new SwitchyardError({ code: 'INVALID_INPUT', message: `${what} is not a file: ${path}` });
  return absolute;
}

/** Checks that `path` is an existing directory and returns it resolved. */
export function requireDirectory(path: string, what = 'directory'): string {
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw notFound(path, what, '');
  if (!statSync(absolute).isDirectory())
    throw new SwitchyardError({ code: 'INVALID_INPUT', message: `${what} is not a directory: ${path}` });
  return absolute;
}

/** Reads and parses a JSON file (NOT_FOUND / INVALID_INPUT with the path on failure). */
export function readJsonFile(path: string, what = 'JSON file'): unknown {
  const absolute = requireFile(path, what);
  return parseJson(readFileSync(absolute, 'utf8'), path);
}

/** Reads a JSON file and validates it with a zod schema (e.g. core's `deploymentPlanSchema`). */
export function readJsonFileWithSchema<Schema extends z.ZodType>(
  path: string,
  schema: Schema,
  what = 'JSON file',
): z.output<Schema> {
  return parseWithSchema(schema, readJsonFile(path, what), path);
}

/** Writes a file, creating its folder. */
export async function writeTextFile(path: string, text: string): Promise<string> {
  const absolute = resolve(path);
  await mkdir(dirname(absolute), { recursive: true });
  await writeFile(absolute, text);
  return absolute;
}

/** Commander option parser for integers: `.option('--tokens <n>', '…', parseIntegerOption)`. */
export function parseIntegerOption(value: string): number {
  const parsed = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed))
    throw new InvalidArgumentError(`expected an integer, got "${value}"`);
  return parsed;
}

/** Commander option parser for positive integers. */
export function parsePositiveIntegerOption(value: string): number {
  const parsed = parseIntegerOption(value);
  if (parsed <= 0) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return parsed;
}

/** Commander option parser for finite numbers. */
export function parseNumberOption(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed))
    throw new InvalidArgumentError(`expected a number, got "${value}"`);
  return parsed;
}

/** Commander option parser for positive numbers. */
export function parsePositiveNumberOption(value: string): number {
  const parsed = parseNumberOption(value);
  if (parsed <= 0) throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return parsed;
}

/** Commander option parser for a share: a number from 0 to 1. */
export function parseShareOption(value: string): number {
  const parsed = parseNumberOption(value);
  if (parsed < 0 || parsed > 1)
    throw new InvalidArgumentError(`expected a share from 0 to 1, got "${value}"`);
  return parsed;
}
