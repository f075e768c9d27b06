import { invalidInput } from './errors.js';

/** Checks that ids are non-negative integers (INVALID_INPUT naming the first bad one). */
export function checkTokenIds(ids: readonly number[], where = 'tokens'): void {
  if (!Array.isArray(ids)) throw invalidInput('token ids must be an array of integers', where);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0)
      throw invalidInput(`token id ${JSON.stringify(id)} is not a non-negative integer`, `${where}[${i}]`);
  }
}

/** Checks that `text` is a string (INVALID_INPUT otherwise). */
export function checkText(text: unknown, where = 'text'): asserts text is string {
  if (typeof text !== 'string') throw invalidInput(`expected a string, got ${typeof text}`, where);
}
