import { SwitchyardError, type SwitchyardErrorCode } from '@switchyard/core';

/** Raised by @switchyard/model; `location` names the file and tensor or field. */
export class ModelError extends SwitchyardError {
  constructor(options: { code: SwitchyardErrorCode; message: string; location?: string; cause?: unknown }) {
    super(options);
    this.name = 'ModelError';
  }
}

export function modelLoadError(message: string, location: string, cause?: unknown): ModelError {
  return new ModelError({ code: 'MODEL_LOAD_FAILED', message, location, cause });
}

export function inferenceError(message: string, location?: string, cause?: unknown): ModelError {
  return new ModelError({ code: 'INFERENCE_FAILED', message, ...(location ? { location } : {}), cause });
}
