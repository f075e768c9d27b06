import { SwitchyardError, type SwitchyardErrorOptions } from '@switchyard/core';

/** Raised by the cost model. `location` names the offending field (e.g. `memoryMB`) or file. */
export class CostModelError extends SwitchyardError {
  static override readonly brand: string = 'switchyard.cost-model.CostModelError';

  constructor(options: SwitchyardErrorOptions) {
    super(options);
  }
}

/** An INVALID_INPUT error naming `field` in its message and location. */
export function invalidField(field: string, message: string): CostModelError {
  return new CostModelError({ code: 'INVALID_INPUT', message: `${field}: ${message}`, location: field });
}
