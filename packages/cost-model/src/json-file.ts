import { readFileSync } from 'node:fs';
import { parseJson } from '@switchyard/core';
import { CostModelError } from './errors.js';

/** The parsed JSON of a file the cost model reads (`what` it is, for the message); NOT_FOUND if unreadable. */
export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CostModelError({
      code: 'NOT_FOUND',
      message: `cannot read ${what} ${path}`,
      location: path,
      cause: error,
    });
  }
  return parseJson(text, path);
}
