import { SwitchyardError, type SwitchyardErrorOptions } from '@switchyard/core';

/** What a `LambdaExecutorError` carries beyond a SwitchyardError. */
export interface LambdaExecutorErrorDetails {
  /** AWS error name when the error came from the Lambda API (e.g. `TooManyRequestsException`). */
  awsErrorName?: string;
  /** For FUNCTION_ERROR: the handler's `errorType` (e.g. `Runtime.OutOfMemory`). */
  functionErrorType?: string;
  /** For FUNCTION_ERROR: the decoded log tail, ending in the REPORT line. */
  logTail?: string;
}

/** Errors raised by @switchyard/lambda-executor: invokes (THROTTLED, FUNCTION_ERROR, …) and deployment. */
export class LambdaExecutorError extends SwitchyardError {
  static override readonly brand: string = 'switchyard.lambda-executor.LambdaExecutorError';
  readonly awsErrorName: string | undefined;
  readonly functionErrorType: string | undefined;
  readonly logTail: string | undefined;

  constructor(options: SwitchyardErrorOptions & LambdaExecutorErrorDetails) {
    super(options);
    this.awsErrorName = options.awsErrorName;
    this.functionErrorType = options.functionErrorType;
    this.logTail = options.logTail;
  }
}

/** A DEPLOYMENT_FAILED error about `location` (a function name, an option). */
export function deploymentError(message: string, location: string, cause?: unknown): LambdaExecutorError {
  return new LambdaExecutorError({ code: 'DEPLOYMENT_FAILED', message, location, cause });
}
