import type { SwitchyardErrorCode } from '@switchyard/core';

/** How the executor treats one error of the Invoke API. */
export interface InvokeErrorRule {
  /** The HTTP status Lambda answers it with. */
  status: number;
  /** Whether another attempt can succeed without anyone changing anything (throttles, waits, service faults). */
  retryable: boolean;
  /** What a caller sees (`LambdaExecutorError.code`). */
  code: SwitchyardErrorCode;
}

const retry = (status: number, code: SwitchyardErrorCode = 'EXECUTOR_FAILED'): InvokeErrorRule => ({
  status,
  retryable: true,
  code,
});
const fail = (status: number, code: SwitchyardErrorCode = 'EXECUTOR_FAILED'): InvokeErrorRule => ({
  status,
  retryable: false,
  code,
});

/**
 * Every error the Lambda Invoke API documents, with its HTTP status, as listed in the API reference
 * (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors; the same list and
 * statuses as `@aws-sdk/client-lambda`'s InvokeCommand, which a test checks), and whether the executor
 * tries again. Retried: throttling (TooManyRequests, EC2Throttled), Lambda's internal faults
 * (ServiceException, EC2Unexpected), and what the reference or the troubleshooting guide
 * (https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html) says to wait out and
 * try again: a function still being created or updated (ResourceConflict), an ENI, VPC connection,
 * code-artifact user or SnapStart snapshot that is not ready yet, and mount or restore timeouts.
 * Not retried: everything that needs someone to change the request, the function's configuration,
 * permissions (KMS, EC2, EFS) or a quota — another attempt would fail the same way.
 */
export const invokeErrorRules: Readonly<Record<string, InvokeErrorRule>> = {
  CodeArtifactUserDeletedException: retry(409),
  CodeArtifactUserFailedException: fail(409),
  CodeArtifactUserPendingException: retry(409),
  DurableExecutionAlreadyStartedException: fail(409),
  EC2AccessDeniedException: fail(502),
  EC2ThrottledException: retry(502, 'THROTTLED'),
  EC2UnexpectedException: retry(502),
  EFSIOException: fail(410),
  EFSMountConnectivityException: fail(408),
  EFSMountFailureException: fail(403),
  EFSMountTimeoutException: retry(408),
  ENILimitReachedException: fail(502),
  ENINotReadyException: retry(502),
  InvalidParameterValueException: fail(400),
  InvalidRequestContentException: fail(400),
  InvalidRuntimeException: fail(502),
  InvalidSecurityGroupIDException: fail(502),
  InvalidSubnetIDException: fail(502),
  InvalidZipFileException: fail(502),
  KMSAccessDeniedException: fail(502),
  KMSDisabledException: fail(502),
  KMSInvalidStateException: fail(502),
  KMSNotFoundException: fail(502),
  ModeNotSupportedException: fail(400),
  NoPublishedVersionException: fail(400, 'NOT_FOUND'),
  RecursiveInvocationException: fail(400),
  RequestTooLargeException: fail(413, 'PAYLOAD_TOO_LARGE'),
  ResourceConflictException: retry(409),
  ResourceNotFoundException: fail(404, 'NOT_FOUND'),
  ResourceNotReadyException: retry(502),
  S3FilesMountConnectivityException: fail(408),
  S3FilesMountFailureException: fail(403),
  S3FilesMountTimeoutException: retry(408),
  SerializedRequestEntityTooLargeException: fail(413, 'PAYLOAD_TOO_LARGE'),
  ServiceException: retry(500),
  ServiceQuotaExceededException: fail(402),
  SnapStartException: fail(400),
  SnapStartNotReadyException: retry(409),
  SnapStartRegenerationFailureException: fail(409),
  SnapStartTimeoutException: retry(408),
  SubnetIPAddressLimitReachedException: fail(502),
  TooManyRequestsException: retry(429, 'THROTTLED'),
  UnsupportedMediaTypeException: fail(415),
};

/**
 * Errors Lambda answers that the reference does not list for Invoke: a payload over 6 MB comes back
 * as `RequestEntityTooLargeException` (413), the name Lambda uses for request-size limits.
 */
export const unlistedInvokeErrorRules: Readonly<Record<string, InvokeErrorRule>> = {
  RequestEntityTooLargeException: fail(413, 'PAYLOAD_TOO_LARGE'),
};

/**
 * The rule for an error the Lambda API answered: by name, else by status (429 a throttle, 5xx a
 * fault worth another attempt, other 4xx final).
 */
export function invokeErrorRule(name: string, status: number): InvokeErrorRule {
  for (const rules of [invokeErrorRules, unlistedInvokeErrorRules]) {
    if (Object.hasOwn(rules, name)) return rules[name] as InvokeErrorRule;
  }
  if (status === 429) return retry(status, 'THROTTLED');
  if (status === 413) return fail(status, 'PAYLOAD_TOO_LARGE');
  if (status === 404) return fail(status, 'NOT_FOUND');
  return status >= 500 ? retry(status) : fail(status);
}
