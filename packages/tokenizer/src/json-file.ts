import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError } from '@switchyard/core';
import { tokenizerLoadError } from './errors.js';

/** Reads a file of a checkpoint directory, or undefined when it does not exist. */
export async function readOptionalText(dir: string, name: string): Promise<string | undefined> {
  try {
    return await readFile(join(dir, name), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw tokenizerLoadError(`cannot read ${name}: ${describeError(error)}`, join(dir, name), error);
  }
}

/** Reads and parses a JSON file of a checkpoint directory (undefined when absent; MODEL_LOAD_FAILED when damaged). */
export async function readOptionalJson(dir: string, name: string): Promise<unknown> {
  const text = await readOptionalText(dir, name);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw tokenizerLoadError(`${name} is not valid JSON: ${describeError(error)}`, join(dir, name), error);
  }
}

/** A JSON object, or MODEL_LOAD_FAILED naming the file. */
export function requireObject(value: unknown, location: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw tokenizerLoadError('expected a JSON object', location);
  return value as Record<string, unknown>;
}
