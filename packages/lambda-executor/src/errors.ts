import { SwitchyardError, type SwitchyardErrorOptions } from '@switchyard/core';

/** Errors raised by @switchyard/lambda-executor (deployment, packaging, the local runtime, invokes). */
export class LambdaExecutorError extends SwitchyardError {
  /** AWS error name when the error came from the Lambda API (e.g. `TooManyRequestsException`). */
  readonly awsErrorName: string | undefined;
  /** For FUNCTION_ERROR: the handler's `errorType` (e.g. `Runtime.OutOfMemory`). */
  readonly functionErrorType: string | undefined;
  /** For FUNCTION_ERROR: the decoded log tail, ending in the REPORT line. */
  readonly logTail: string | undefined;

  constructor(
    options: SwitchyardErrorOptions & { awsErrorName?: string; functionErrorType?: string; logTail?: string },
  ) {
    super(options);
    this.name = 'LambdaExecutorError';
    this.awsErrorName = options.awsErrorName;
    this.functionErrorType = options.functionErrorType;
    this.logTail = options.logTail;
  }
}

/**
 * An error the local runtime answers with AWS's REST-JSON error shape: HTTP status, the
 * `x-amzn-ErrorType` header and `{ Type, message }` body, so the real SDK raises the same exception
 * class it would raise against AWS.
 */
export class LambdaApiError extends Error {
  readonly status: number;
  readonly errorType: string;
  readonly headers: Record<string, string>;
  readonly extra: Record<string, unknown>;

  constructor(
    status: number,
    errorType: string,
    message: string,
    options: { headers?: Record<string, string>; extra?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = 'LambdaApiError';
    this.status = status;
    this.errorType = errorType;
    this.headers = options.headers ?? {};
    this.extra = options.extra ?? {};
  }
}

export const apiErrors = {
  notFound: (what: string): LambdaApiError =>
    new LambdaApiError(404, 'ResourceNotFoundException', `Function not found: ${what}`),
  conflict: (message: string): LambdaApiError =>
    new LambdaApiError(409, 'ResourceConflictException', message),
  invalid: (message: string): LambdaApiError =>
    new LambdaApiError(400, 'InvalidParameterValueException', message),
  tooLarge: (message: string): LambdaApiError =>
    new LambdaApiError(413, 'RequestEntityTooLargeException', message),
  throttled: (reason: string, message: string): LambdaApiError =>
    new LambdaApiError(429, 'TooManyRequestsException', message, {
      headers: { 'Retry-After': '1' },
      extra: { Reason: reason, retryAfterSeconds: '1' },
    }),
};
