import { SwitchyardError } from '@switchyard/core';

/** Errors @switchyard/lambda-local raises to its callers (bad zips, a runtime that cannot start). */
export class LambdaLocalError extends SwitchyardError {
  static override readonly brand: string = 'switchyard.lambda-local.LambdaLocalError';
}

export interface LambdaApiErrorOptions {
  /** HTTP status of the answer (404, 409, 413, 429, …). */
  status: number;
  /** AWS's exception name, sent as `x-amzn-ErrorType` (e.g. `ResourceNotFoundException`). */
  errorType: string;
  message: string;
  /** Extra response headers (e.g. `Retry-After`). */
  headers?: Record<string, string>;
  /** Extra fields of the JSON body (e.g. `Reason` of a throttle). */
  extra?: Record<string, unknown>;
}

/**
 * What the emulated Lambda API answers with, in AWS's REST-JSON error shape: HTTP status, the
 * `x-amzn-ErrorType` header and a `{ Type, message }` body, so the real SDK raises the same exception
 * class it would raise against AWS. It never reaches a Switchyard caller (the router turns it into a
 * response), so it is a plain Error, not a SwitchyardError.
 */
export class LambdaApiError extends Error {
  readonly status: number;
  readonly errorType: string;
  readonly headers: Record<string, string>;
  readonly extra: Record<string, unknown>;

  constructor(options: LambdaApiErrorOptions) {
    super(options.message);
    this.name = 'LambdaApiError';
    this.status = options.status;
    this.errorType = options.errorType;
    this.headers = options.headers ?? {};
    this.extra = options.extra ?? {};
  }
}

/** The API errors the emulator answers with, as AWS names them. */
export const lambdaApiErrors = {
  functionNotFound: (arn: string): LambdaApiError =>
    new LambdaApiError({
      status: 404,
      errorType: 'ResourceNotFoundException',
      message: `Function not found: ${arn}`,
    }),
  /** Any other missing resource (an alias, a layer version, a tagged resource). */
  notFound: (message: string): LambdaApiError =>
    new LambdaApiError({ status: 404, errorType: 'ResourceNotFoundException', message }),
  conflict: (message: string): LambdaApiError =>
    new LambdaApiError({ status: 409, errorType: 'ResourceConflictException', message }),
  /** A call on a function (or version) that is still being created. */
  pending: (): LambdaApiError =>
    lambdaApiErrors.conflict(
      'The operation cannot be performed at this time. The function is currently in the following state: Pending',
    ),
  /** A second update, or a PublishVersion, while an update of the function is in progress. */
  updateInProgress: (arn: string): LambdaApiError =>
    lambdaApiErrors.conflict(
      `The operation cannot be performed at this time. An update is in progress for resource: ${arn}`,
    ),
  /** A `RevisionId` that is not the resource's current one. */
  preconditionFailed: (what: string): LambdaApiError =>
    new LambdaApiError({
      status: 412,
      errorType: 'PreconditionFailedException',
      message: `The Revision Id provided does not match the latest Revision Id. Call the ${what} API to retrieve the latest Revision Id`,
    }),
  provisionedConfigNotFound: (message: string): LambdaApiError =>
    new LambdaApiError({ status: 404, errorType: 'ProvisionedConcurrencyConfigNotFoundException', message }),
  invalid: (message: string): LambdaApiError =>
    new LambdaApiError({ status: 400, errorType: 'InvalidParameterValueException', message }),
  invalidJson: (): LambdaApiError =>
    new LambdaApiError({
      status: 400,
      errorType: 'InvalidRequestContentException',
      message: 'Could not parse request body into json',
    }),
  tooLarge: (message: string): LambdaApiError =>
    new LambdaApiError({ status: 413, errorType: 'RequestEntityTooLargeException', message }),
  throttled: (reason: string, message: string): LambdaApiError =>
    new LambdaApiError({
      status: 429,
      errorType: 'TooManyRequestsException',
      message,
      headers: { 'Retry-After': '1' },
      extra: { Reason: reason, retryAfterSeconds: '1' },
    }),
  unknownOperation: (method: string, path: string): LambdaApiError =>
    new LambdaApiError({
      status: 404,
      errorType: 'UnknownOperationException',
      message: `The local runtime does not implement ${method} ${path}`,
    }),
  service: (message: string): LambdaApiError =>
    new LambdaApiError({ status: 500, errorType: 'ServiceException', message }),
};
