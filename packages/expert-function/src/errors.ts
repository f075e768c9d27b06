import { SwitchyardError } from '@switchyard/core';

/**
 * Errors of @switchyard/expert-function: a manifest or graph that cannot be loaded, a request for an
 * expert the function does not hold (INFERENCE_FAILED), a payload that is not an envelope
 * (WIRE_FORMAT_INVALID).
 */
export class ExpertFunctionError extends SwitchyardError {
  static override readonly brand: string = 'switchyard.expert-function.ExpertFunctionError';
}
