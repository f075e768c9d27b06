import { SwitchyardError, type SwitchyardErrorCode } from '@switchyard/core';

/** Raised by the cost model. `location` names the offending field (e.g. `memoryMB`). */
export class CostModelError extends SwitchyardError {
  constructor(options: { code?: SwitchyardErrorCode; message: string; field?: string; cause?: unknown }) {
    super({
      code: options.code ?? 'INVALID_INPUT',
      message: options.message,
      ...(options.field === undefined ? {} : { location: options.field }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.name = 'CostModelError';
  }
}

/** Shorthand for an INVALID_INPUT error naming `field`. */
export function invalidField(field: string, message: string): CostModelError {
  return new CostModelError({ field, message: `${field}: ${message}` });
}
