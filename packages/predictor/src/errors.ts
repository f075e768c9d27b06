import { SwitchyardError, type SwitchyardErrorCode } from '@switchyard/core';

/** Raises a SwitchyardError for a predictor problem, naming where it is and what to do. */
export function predictorError(
  message: string,
  location: string,
  code: SwitchyardErrorCode = 'PREDICTOR_INVALID',
  cause?: unknown,
): SwitchyardError {
  return new SwitchyardError({ code, message, location, ...(cause === undefined ? {} : { cause }) });
}

/** An INVALID_INPUT error for a malformed batch or argument. */
export function inputError(message: string, location: string): SwitchyardError {
  return predictorError(message, location, 'INVALID_INPUT');
}
