import { ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { lambdaLimits, noopLogger, parseWithSchema } from '@switchyard/core';
import { type DoctorOptions, doctorOptionsSchema } from '../options.js';
import { accountSettings, callerIdentity } from './account-checks.js';
import { createAwsClients } from './aws-clients.js';
import { awsErrorMessage, ControlPlane, explainAwsError } from './control-plane.js';
import { type DeployResult, deployPlan } from './deploy-plan.js';
import { type DeploymentContext, read } from './deployment-context.js';
import { checkExecutionRole } from './execution-role.js';
import { checkBucket } from './weights-bucket.js';

/** One thing `doctor` looked at. */
export interface DoctorCheck {
  check: 'credentials' | 'region' | 'role' | 'bucket' | 'quotas' | 'plan';
  status: 'ok' | 'warn' | 'fail';
  detail: string;
}

/** What `doctorAwsTarget` found, and (given a plan) what a deploy would do. */
export interface DoctorReport {
  region: string;
  endpoint?: string;
  accountId?: string;
  checks: DoctorCheck[];
  /** A dry run of the plan's deployment: every function, layer, object and the role, with actions. */
  deployment?: Omit<DeployResult, 'runtime'>;
}

function requireGraphs(graphs: DoctorOptions['graphs']): NonNullable<DoctorOptions['graphs']> {
  if (!graphs) throw new Error('checking a plan needs its graphs (the model checkpoint)');
  return graphs;
}

const failureText = (error: unknown): string =>
  explainAwsError(error) ?? (error instanceof Error ? error.message : awsErrorMessage(error));

/**
 * Checks an AWS account for a deployment without changing it: the credentials (STS), the region
 * (Lambda answers there), the role (`roleArn` trusts Lambda, or what `createRole` would make), the
 * weights bucket and its region, the account's concurrency and code-storage quotas; with a plan, a
 * dry run of its deployment (what would be created or changed). Failed checks are reported, not
 * thrown.
 */
export async function doctorAwsTarget(planInput: unknown, options: DoctorOptions): Promise<DoctorReport> {
  const { clients: givenClients, logger = noopLogger, ...data } = options;
  const resolved = parseWithSchema(doctorOptionsSchema, data, 'doctor options');
  const clients = createAwsClients({ ...resolved, target: 'aws' }, givenClients ?? {});
  const context: DeploymentContext = {
    clients,
    controlPlane: new ControlPlane({ ...resolved.controlPlane, maxAttempts: 3 }, { logger }),
    model: '',
    region: resolved.region,
    dryRun: true,
    logger,
  };
  const report: DoctorReport = {
    region: resolved.region,
    ...(resolved.endpoint ? { endpoint: resolved.endpoint } : {}),
    checks: [],
  };
  const check = async (name: DoctorCheck['check'], run: () => Promise<Omit<DoctorCheck, 'check'>>) => {
    try {
      report.checks.push({ check: name, ...(await run()) });
    } catch (error) {
      report.checks.push({ check: name, status: 'fail', detail: failureText(error) });
    }
  };
  try {
    await check('credentials', async () => {
      const identity = await callerIdentity(context);
      report.accountId = identity.accountId;
      return { status: 'ok', detail: `${identity.arn} (account ${identity.accountId})` };
    });
    await check('region', async () => {
      if (!/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d+$/.test(resolved.region))
        return { status: 'fail', detail: `${resolved.region} is not an AWS region name (like us-east-1)` };
      await read(context, 'ListFunctions', () =>
        clients.lambda.send(new ListFunctionsCommand({ MaxItems: 1 })),
      );
      return { status: 'ok', detail: `Lambda answers in ${resolved.region}` };
    });
    await check('role', async () => {
      if (resolved.roleArn) {
        await checkExecutionRole(context, resolved.roleArn);
        return { status: 'ok', detail: `${resolved.roleArn} trusts lambda.amazonaws.com` };
      }
      if (resolved.createRole)
        return { status: 'ok', detail: 'a deploy creates or updates its own role (see the plan check)' };
      return { status: 'warn', detail: 'no role given: deploy needs --role-arn ARN or --create-role' };
    });
    await check('bucket', async () => {
      if (!resolved.bucket)
        return { status: 'warn', detail: 'no --bucket: graphs go inside each function zip' };
      await checkBucket(context, resolved.bucket);
      return { status: 'ok', detail: `s3://${resolved.bucket} is in ${resolved.region}` };
    });
    await check('quotas', async () => {
      const settings = await accountSettings(context);
      if (!settings.known) return { status: 'warn', detail: `not checked: ${settings.reason}` };
      const { limit, usage } = settings;
      const storageUsed = usage.TotalCodeSize ?? 0;
      const storage = limit.TotalCodeSize ?? lambdaLimits.defaultCodeStorageBytes;
      const unreserved = limit.UnreservedConcurrentExecutions ?? 0;
      const total = limit.ConcurrentExecutions ?? 0;
      const keep = Math.min(lambdaLimits.minUnreservedConcurrency, total);
      const low = unreserved <= keep || storageUsed > 0.9 * storage;
      return {
        status: low ? 'warn' : 'ok',
        detail: `concurrency ${total} (${unreserved} unreserved, ${Math.max(0, unreserved - keep)} reservable); code storage ${(storageUsed / 2 ** 30).toFixed(2)} of ${(storage / 2 ** 30).toFixed(0)} GiB`,
      };
    });
    if (planInput !== undefined) {
      await check('plan', async () => {
        const { runtime: _runtime, ...deployment } = await deployPlan(planInput, {
          ...resolved,
          target: 'aws',
          dryRun: true,
          clients: { ...clients },
          graphs: requireGraphs(options.graphs),
          ...(options.handlerBundle ? { handlerBundle: options.handlerBundle } : {}),
          logger,
        });
        report.deployment = deployment;
        const changes = deployment.functions.filter((fn) => fn.actions.join() !== 'unchanged').length;
        const role = deployment.role
          ? `; role ${deployment.role.roleName}: ${deployment.role.actions.join(', ')}`
          : '';
        const warnings = deployment.warnings.length > 0 ? `; ${deployment.warnings.join('; ')}` : '';
        return {
          status: deployment.warnings.length > 0 ? 'warn' : 'ok',
          detail: `a deploy would change ${changes} of ${deployment.functions.length} functions${role}${warnings}`,
        };
      });
    }
    return report;
  } finally {
    clients.destroy();
  }
}
