const marker = Symbol.for('switchyard.error');

/** Every error code a Switchyard package may raise. Apps map these to exit codes and HTTP statuses. */
export const errorCodes = [
  'INVALID_INPUT',
  'INVALID_CONFIG',
  'NOT_FOUND',
  'MODEL_LOAD_FAILED',
  'UNSUPPORTED_ARCHITECTURE',
  'INFERENCE_FAILED',
  'TRACE_INVALID',
  'PREDICTOR_INVALID',
  'PLAN_INVALID',
  'SLO_INFEASIBLE',
  'EXECUTOR_FAILED',
  'FUNCTION_ERROR',
  'THROTTLED',
  'TIMEOUT',
  'ABORTED',
  'PAYLOAD_TOO_LARGE',
  'WIRE_FORMAT_INVALID',
  'DEPLOYMENT_FAILED',
  'UNAUTHORIZED',
  'RATE_LIMITED',
  'INTERNAL',
] as const;

export type SwitchyardErrorCode = (typeof errorCodes)[number];

export interface SwitchyardErrorOptions {
  code: SwitchyardErrorCode;
  message: string;
  cause?: unknown;
  /** Where the problem is: a file, tensor, field or function name. */
  location?: string;
  /** Whether retrying the same operation may succeed. */
  retryable?: boolean;
}

/**
 * Base class for every error Switchyard raises. Use `SwitchyardError.isInstance(e)` rather than
 * `instanceof`: it also recognises errors from another copy of this package.
 */
export class SwitchyardError extends Error {
  /** Cross-realm brand checked by `isInstance`. */
  readonly [marker] = true;
  readonly code: SwitchyardErrorCode;
  readonly location: string | undefined;
  readonly retryable: boolean;

  constructor(options: SwitchyardErrorOptions) {
    super(
      options.location ? `${options.message} (at ${options.location})` : options.message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'SwitchyardError';
    this.code = options.code;
    this.location = options.location;
    this.retryable = options.retryable ?? false;
  }

  static isInstance(error: unknown): error is SwitchyardError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }

  toJSON(): { name: string; code: SwitchyardErrorCode; message: string; location?: string } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.location ? { location: this.location } : {}),
    };
  }
}

/** Says what an unknown thrown value was, for wrapping it in a message. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
