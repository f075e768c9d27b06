import {
  type LambdaClient,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  waitUntilPublishedVersionActive,
} from '@aws-sdk/client-lambda';
import { createRandom, delay, type Logger, noopLogger, type RandomSource } from '@switchyard/core';
import { deploymentError } from '../errors.js';
import type { ControlPlaneOptions } from '../options.js';

/** What the SDK puts on an error from an AWS API. */
export interface AwsErrorShape {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** The AWS error name of `error` (`ResourceNotFoundException`, …), or '' for anything else. */
export function awsErrorName(error: unknown): string {
  return typeof error === 'object' && error !== null ? ((error as AwsErrorShape).name ?? '') : '';
}

/** The message of an AWS error, else the error as text. */
export function awsErrorMessage(error: unknown): string {
  const message = typeof error === 'object' && error !== null ? (error as AwsErrorShape).message : undefined;
  return message ?? String(error);
}

/**
 * Why a control-plane call failed, for the retry loop. Lambda answers `ResourceConflictException`
 * while a function's previous update is still in progress (retry), but also when a resource already
 * exists (not retried: another deployment got there first). `TooManyRequestsException` (and IAM's
 * and S3's throttling names) are the per-account request-rate limits. A role created a moment ago
 * answers "cannot be assumed by Lambda" until IAM has propagated it.
 */
export type RetryReason = 'conflict' | 'throttled' | 'role-propagation';

export function retryReason(error: unknown, roleJustCreated: boolean): RetryReason | undefined {
  const name = awsErrorName(error);
  const message = awsErrorMessage(error);
  if (name === 'ResourceConflictException') return /already exist/i.test(message) ? undefined : 'conflict';
  if (name === 'TooManyRequestsException' || name === 'Throttling' || name === 'ThrottlingException')
    return 'throttled';
  if (name === 'SlowDown') return 'throttled';
  if (
    roleJustCreated &&
    name === 'InvalidParameterValueException' &&
    /role defined for the function cannot be assumed/i.test(message)
  )
    return 'role-propagation';
  return undefined;
}

/** Calls to the AWS control plane with the deployment's retries and waits. */
export class ControlPlane {
  private readonly random: RandomSource;
  private readonly logger: Logger;
  /** Set once this deployment created the execution role: its first CreateFunction may see IAM lag. */
  roleJustCreated = false;

  constructor(
    private readonly options: ControlPlaneOptions,
    settings: { random?: RandomSource; logger?: Logger } = {},
  ) {
    this.random = settings.random ?? createRandom(0x5eed);
    this.logger = settings.logger ?? noopLogger;
  }

  /**
   * Runs `call`, retrying conflicts and throttling with full-jitter exponential backoff
   * (`random() × min(max, base × 2^(attempt−1))`, core's `delay`) up to `maxAttempts`; a just-created
   * role's propagation is retried for up to `rolePropagationSeconds`. Anything else is thrown at once.
   */
  async call<T>(label: string, call: () => Promise<T>): Promise<T> {
    const { maxAttempts, baseBackoffMs, maxBackoffMs, rolePropagationSeconds } = this.options;
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        const reason = retryReason(error, this.roleJustCreated);
        const propagating =
          reason === 'role-propagation' && Date.now() - started < rolePropagationSeconds * 1000;
        const retry = reason !== undefined && reason !== 'role-propagation' && attempt < maxAttempts;
        if (!retry && !propagating) {
          if (reason && reason !== 'role-propagation') {
            throw deploymentError(
              `${label} still failed with ${awsErrorName(error)} after ${attempt} attempts: ${awsErrorMessage(error)}`,
              label,
              error,
            );
          }
          throw error;
        }
        const backoffMs =
          reason === 'role-propagation'
            ? Math.min(maxBackoffMs, 2000)
            : this.random() * Math.min(maxBackoffMs, baseBackoffMs * 2 ** (attempt - 1));
        this.logger.debug('control-plane call retried', { label, reason, attempt, backoffMs });
        await delay(backoffMs);
      }
    }
  }

  /**
   * Waits with the SDK's waiters: for a new function to become Active (`waitUntilFunctionActiveV2`),
   * for an update to finish (`waitUntilFunctionUpdatedV2`), or for a published version to become
   * Active. A function that ends Failed is an error carrying Lambda's reason.
   */
  async waitFor(
    lambda: LambdaClient,
    what: 'active' | 'updated' | 'version-active',
    functionName: string,
    qualifier?: string,
  ): Promise<void> {
    const waiter = {
      client: lambda,
      maxWaitTime: this.options.waitTimeoutSeconds,
      minDelay: this.options.waitMinDelaySeconds,
      maxDelay: 5,
    };
    try {
      if (what === 'active') await waitUntilFunctionActiveV2(waiter, { FunctionName: functionName });
      else if (what === 'updated') await waitUntilFunctionUpdatedV2(waiter, { FunctionName: functionName });
      else
        await waitUntilPublishedVersionActive(waiter, { FunctionName: functionName, Qualifier: qualifier });
    } catch (error) {
      const state = (error as { state?: string; reason?: unknown }).reason;
      throw deploymentError(
        `function ${functionName} did not become ${what === 'updated' ? 'updated' : 'Active'} within ${this.options.waitTimeoutSeconds} s: ${describeWaiterFailure(state ?? error)}`,
        functionName,
        error,
      );
    }
  }
}

/** The waiter's last observation in words: Lambda's StateReason / LastUpdateStatusReason when there is one. */
function describeWaiterFailure(reason: unknown): string {
  const configuration =
    (reason as { Configuration?: Record<string, unknown> } | undefined)?.Configuration ?? reason;
  if (typeof configuration === 'object' && configuration !== null) {
    const record = configuration as Record<string, unknown>;
    const parts = ['State', 'StateReason', 'LastUpdateStatus', 'LastUpdateStatusReason']
      .filter((key) => record[key] !== undefined)
      .map((key) => `${key} ${String(record[key])}`);
    if (parts.length > 0) return parts.join(', ');
  }
  return awsErrorMessage(reason);
}

/**
 * What an AWS error means for someone deploying, in words: quotas, roles, credentials and access.
 * Undefined for errors with nothing to add to AWS's own message.
 */
export function explainAwsError(error: unknown): string | undefined {
  const name = awsErrorName(error);
  const message = awsErrorMessage(error);
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message))
    return 'no AWS credentials were found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or log in with `aws sso login`';
  if (
    [
      'InvalidClientTokenId',
      'UnrecognizedClientException',
      'SignatureDoesNotMatch',
      'ExpiredToken',
      'ExpiredTokenException',
    ].includes(name)
  )
    return `the AWS credentials were rejected (${name}): ${message}`;
  if (name === 'CodeStorageExceededException')
    return `the account's Lambda code storage quota is full (${message}); delete unused function versions or layer versions, or ask for a higher quota`;
  if (name === 'InvalidParameterValueException' && /UnreservedConcurrentExecution/i.test(message))
    return `the account's concurrency quota is exceeded: reserving this concurrency would leave fewer unreserved executions than Lambda keeps (${message}); lower the plan's reserved concurrency or raise the account's concurrency quota`;
  if (name === 'InvalidParameterValueException' && /cannot be assumed/i.test(message))
    return `the execution role cannot be assumed by Lambda (${message}); its trust policy must allow lambda.amazonaws.com to sts:AssumeRole`;
  if (name === 'AccessDeniedException' || name === 'AccessDenied')
    return `access denied (${message}); the deploying identity needs the Lambda, S3 (on the bucket) and, with --create-role, IAM permissions listed in architecture/deployment.md`;
  return undefined;
}
