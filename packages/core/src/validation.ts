import type { z } from 'zod';
import { SwitchyardError, type SwitchyardErrorCode } from './errors.js';

/**
 * Parses `value` with a zod schema; on failure throws a SwitchyardError whose message names the
 * first offending field (`where: field.path: problem`). Apps reuse this for flags, files and bodies.
 */
export function parseWithSchema<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  where: string,
  code: SwitchyardErrorCode = 'INVALID_INPUT',
): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 3).map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return `${path}: ${issue.message}`;
  });
  const more = result.error.issues.length > 3 ? ` (and ${result.error.issues.length - 3} more)` : '';
  throw new SwitchyardError({
    code,
    message: `${problems.join('; ')}${more}`,
    location: where,
    cause: result.error,
  });
}

/** Parses JSON text, raising INVALID_INPUT with the location on a syntax error. */
export function parseJson(text: string, where: string, code: SwitchyardErrorCode = 'INVALID_INPUT'): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SwitchyardError({
      code,
      message: `malformed JSON: ${(error as Error).message}`,
      location: where,
      cause: error,
    });
  }
}
