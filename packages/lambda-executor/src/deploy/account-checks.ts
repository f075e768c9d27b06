import { type AccountLimit, type AccountUsage, GetAccountSettingsCommand } from '@aws-sdk/client-lambda';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { lambdaLimits } from '@switchyard/core';
import { deploymentError } from '../errors.js';
import { awsErrorMessage, awsErrorName, explainAwsError } from './control-plane.js';
import { type DeploymentContext, read } from './deployment-context.js';

/** Who the credentials are. */
export interface CallerIdentity {
  accountId: string;
  arn: string;
}

/**
 * STS GetCallerIdentity: proves the credentials exist and are accepted before anything is built or
 * written, and gives the account id the role's policy names.
 */
export async function callerIdentity(context: DeploymentContext): Promise<CallerIdentity> {
  try {
    const answer = await read(context, 'GetCallerIdentity', () =>
      context.clients.sts.send(new GetCallerIdentityCommand({})),
    );
    return { accountId: answer.Account ?? '', arn: answer.Arn ?? '' };
  } catch (error) {
    throw deploymentError(
      explainAwsError(error) ?? `the AWS credentials could not be checked: ${awsErrorMessage(error)}`,
      'credentials',
      error,
    );
  }
}

/** The account's Lambda quotas and usage, or why they could not be read. */
export type AccountSettings =
  | { known: true; limit: AccountLimit; usage: AccountUsage }
  | { known: false; reason: string };

/**
 * GetAccountSettings. An endpoint without it (moto has none) or an identity without
 * `lambda:GetAccountSettings` leaves the quotas unknown: the deployment goes on, and a quota that is
 * exceeded fails the write that exceeds it with the error explained.
 */
export async function accountSettings(context: DeploymentContext): Promise<AccountSettings> {
  try {
    const answer = await read(context, 'GetAccountSettings', () =>
      context.clients.lambda.send(new GetAccountSettingsCommand({})),
    );
    return { known: true, limit: answer.AccountLimit ?? {}, usage: answer.AccountUsage ?? {} };
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    return {
      known: false,
      reason: `GetAccountSettings failed (${awsErrorName(error) || `HTTP ${status ?? '?'}`}): ${awsErrorMessage(error).split('\n')[0]}`,
    };
  }
}

/** What a deployment adds to the account's totals. */
export interface QuotaDemand {
  /** Reserved concurrency after the deployment minus before, over its functions. */
  reservedChange: number;
  /** Provisioned concurrency of functions without reserved concurrency (it comes out of the unreserved pool). */
  unreservedProvisionedChange: number;
  /** Code bytes the deployment stores: new or changed zips (each also kept as a published version) and layers. */
  codeBytes: number;
}

/**
 * Checks a deployment against the account's quotas before its first write: reserved concurrency may
 * not leave fewer unreserved executions than Lambda keeps (100, or the whole account when it has
 * less: architecture/aws-lambda-facts.md), and the code must fit the storage quota.
 */
export function checkQuotas(settings: AccountSettings, demand: QuotaDemand): void {
  if (!settings.known) return;
  const { limit, usage } = settings;
  const unreserved = limit.UnreservedConcurrentExecutions;
  const total = limit.ConcurrentExecutions;
  if (unreserved !== undefined && total !== undefined) {
    const keep = Math.min(lambdaLimits.minUnreservedConcurrency, total);
    const after = unreserved - demand.reservedChange - demand.unreservedProvisionedChange;
    if (after < keep) {
      throw deploymentError(
        `the account's concurrency quota is exceeded: the plan needs ${demand.reservedChange + demand.unreservedProvisionedChange} more reserved or provisioned executions, the account has ${unreserved} unreserved of ${total} and Lambda keeps ${keep} unreserved; lower the plan's concurrency or raise the quota (Service Quotas: "Concurrent executions")`,
        'concurrency quota',
      );
    }
  }
  const storage = limit.TotalCodeSize;
  if (storage !== undefined) {
    const used = usage.TotalCodeSize ?? 0;
    if (used + demand.codeBytes > storage) {
      throw deploymentError(
        `the account's Lambda code storage quota is exceeded: ${used} of ${storage} bytes used and this deployment stores ${demand.codeBytes} more; delete unused function or layer versions, or raise the quota`,
        'code storage quota',
      );
    }
  }
}
