import { SwitchyardError, type SwitchyardErrorCode, type SwitchyardErrorOptions } from '@switchyard/core';

/** The codes @switchyard/predictor raises. */
export type PredictorErrorCode = Extract<
  SwitchyardErrorCode,
  'INVALID_INPUT' | 'PREDICTOR_INVALID' | 'NOT_FOUND'
>;

export type PredictorErrorOptions = SwitchyardErrorOptions & {
  code: PredictorErrorCode;
};

/**
 * Raised by @switchyard/predictor: a malformed batch, trace or argument (INVALID_INPUT), an
 * inconsistent predictor file (PREDICTOR_INVALID) or one that cannot be read (NOT_FOUND).
 * `location` names the field, file or array.
 */
export class PredictorError extends SwitchyardError {
  static override readonly brand: string = 'switchyard.predictor.PredictorError';
  declare readonly code: PredictorErrorCode;

  constructor(options: PredictorErrorOptions) {
    super(options);
  }
}

/** A PREDICTOR_INVALID error (or `code`) naming where the problem is. */
export function predictorError(
  message: string,
  location: string,
  code: PredictorErrorCode = 'PREDICTOR_INVALID',
  cause?: unknown,
): PredictorError {
  return new PredictorError({ code, message, location, cause });
}

/** An INVALID_INPUT error for a malformed batch or argument. */
export function inputError(message: string, location: string): PredictorError {
  return new PredictorError({ code: 'INVALID_INPUT', message, location });
}
