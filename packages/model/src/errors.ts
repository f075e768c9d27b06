import { SwitchyardError, type SwitchyardErrorCode, type SwitchyardErrorOptions } from '@switchyard/core';

/** The codes @switchyard/model raises. */
export type ModelErrorCode = Extract<
  SwitchyardErrorCode,
  | 'INVALID_INPUT'
  | 'INVALID_CONFIG'
  | 'NOT_FOUND'
  | 'MODEL_LOAD_FAILED'
  | 'UNSUPPORTED_ARCHITECTURE'
  | 'INFERENCE_FAILED'
>;

export type ModelErrorOptions = SwitchyardErrorOptions & {
  code: ModelErrorCode;
};

/**
 * Raised by @switchyard/model: a checkpoint or config that cannot be read or is not supported, bad
 * input to the runtime, or an onnxruntime failure. `location` names the file and tensor or field.
 */
export class ModelError extends SwitchyardError {
  static override readonly brand: string = 'switchyard.model.ModelError';
  declare readonly code: ModelErrorCode;

  constructor(options: ModelErrorOptions) {
    super(options);
  }
}

/** MODEL_LOAD_FAILED naming the file or tensor. */
export function modelLoadError(message: string, location: string, cause?: unknown): ModelError {
  return new ModelError({ code: 'MODEL_LOAD_FAILED', message, location, cause });
}

/** INFERENCE_FAILED naming the graph or tensor, when known. */
export function inferenceError(message: string, location?: string, cause?: unknown): ModelError {
  return new ModelError({ code: 'INFERENCE_FAILED', message, location, cause });
}
