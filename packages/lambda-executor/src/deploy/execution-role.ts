import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  type GetRoleCommandOutput,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { deploymentError } from '../errors.js';
import { awsErrorMessage, awsErrorName } from './control-plane.js';
import { type DeploymentContext, read, write } from './deployment-context.js';
import {
  deploymentKeyPrefix,
  deploymentTagKey,
  executionRoleName,
  executionRolePolicyName,
  roleNameFromArn,
} from './deployment-names.js';

/** An IAM policy document. */
export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: Array<Record<string, unknown>>;
}

/** Lets Lambda assume the role: the trust policy of every execution role. */
export const lambdaTrustPolicy: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

/** IAM's limit on a role's inline policies, all together, in characters without whitespace. */
const inlinePolicyCharacters = 10_240;

/** What the execution role's permissions are about. */
export interface ExecutionRoleScope {
  region: string;
  accountId: string;
  functionNames: readonly string[];
  /** The weights bucket and the deployment's key prefix in it, when graphs are in S3. */
  weights?: { bucket: string; keyPrefix: string };
}

/** The longest common prefix of `names`. */
function commonPrefix(names: readonly string[]): string {
  let prefix = names[0] ?? '';
  for (const name of names) while (!name.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}

/**
 * The execution role's permissions, least privilege: write its own functions' CloudWatch log groups
 * (`/aws/lambda/<function>`: what AWSLambdaBasicExecutionRole grants on every log group) and read the
 * deployment's objects under the weights prefix, nothing else. When one log-group ARN per function
 * would pass IAM's inline-policy size, the functions' common name prefix is used instead.
 */
export function executionRolePolicy(scope: ExecutionRoleScope): PolicyDocument {
  const logGroup = (name: string) =>
    `arn:aws:logs:${scope.region}:${scope.accountId}:log-group:/aws/lambda/${name}`;
  const perFunction = scope.functionNames.flatMap((name) => [logGroup(name), `${logGroup(name)}:*`]);
  const statements = (logResources: string[]): PolicyDocument => ({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'FunctionLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: logResources,
      },
      ...(scope.weights
        ? [
            {
              Sid: 'ReadExpertGraphs',
              Effect: 'Allow',
              Action: 's3:GetObject',
              Resource: `arn:aws:s3:::${scope.weights.bucket}/${scope.weights.keyPrefix}*`,
            },
          ]
        : []),
    ],
  });
  const exact = statements(perFunction);
  if (JSON.stringify(exact).length <= inlinePolicyCharacters) return exact;
  const prefix = commonPrefix(scope.functionNames);
  return statements([`${logGroup(`${prefix}*`)}`, `${logGroup(`${prefix}*`)}:*`]);
}

/** A policy document as IAM returns it (URL-encoded JSON), parsed; undefined when it is not JSON. */
function parsePolicy(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(decodeURIComponent(text));
  } catch {
    return undefined;
  }
}

/** Same JSON value (object keys in any order). */
function sameJson(a: unknown, b: unknown): boolean {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (typeof value === 'object' && value !== null)
      return Object.fromEntries(
        Object.keys(value)
          .sort()
          .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
      );
    return value;
  };
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** Whether a trust policy lets Lambda assume the role. */
export function trustsLambda(document: unknown): boolean {
  const statements = (document as { Statement?: unknown } | undefined)?.Statement;
  const list = Array.isArray(statements) ? statements : statements ? [statements] : [];
  return list.some((statement: Record<string, unknown>) => {
    const actions = [statement.Action].flat();
    const services = [(statement.Principal as { Service?: unknown } | undefined)?.Service].flat();
    return (
      statement.Effect === 'Allow' &&
      actions.some((action) => action === 'sts:AssumeRole' || action === 'sts:*' || action === '*') &&
      services.includes('lambda.amazonaws.com')
    );
  });
}

async function getRole(
  context: DeploymentContext,
  roleName: string,
): Promise<GetRoleCommandOutput | undefined> {
  try {
    return await read(context, `GetRole ${roleName}`, () =>
      context.clients.iam.send(new GetRoleCommand({ RoleName: roleName })),
    );
  } catch (error) {
    if (awsErrorName(error) === 'NoSuchEntity' || awsErrorName(error) === 'NoSuchEntityException')
      return undefined;
    throw error;
  }
}

const ownedBy = (role: GetRoleCommandOutput['Role'], model: string): boolean =>
  (role?.Tags ?? []).some((tag) => tag.Key === deploymentTagKey && tag.Value === model);

/**
 * Checks a given execution role before anything is created: it must exist and trust
 * `lambda.amazonaws.com`, or CreateFunction would fail with "the role cannot be assumed by Lambda"
 * after the layer and objects were already uploaded. A caller without `iam:GetRole` gets a warning,
 * not an error (CreateFunction will still say if the role is wrong).
 */
export async function checkExecutionRole(context: DeploymentContext, roleArn: string): Promise<void> {
  const roleName = roleNameFromArn(roleArn);
  if (!roleName) {
    throw deploymentError(
      `${roleArn} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)`,
      '--role-arn',
    );
  }
  let role: GetRoleCommandOutput | undefined;
  try {
    role = await getRole(context, roleName);
  } catch (error) {
    if (awsErrorName(error) === 'AccessDenied' || awsErrorName(error) === 'AccessDeniedException') {
      context.logger.warn('cannot read the execution role (iam:GetRole denied); not checking it', {
        roleArn,
      });
      return;
    }
    throw deploymentError(`cannot read the execution role: ${awsErrorMessage(error)}`, roleArn, error);
  }
  if (!role?.Role) {
    throw deploymentError(
      `the execution role ${roleName} does not exist; create it or pass --create-role`,
      roleArn,
    );
  }
  if (!trustsLambda(parsePolicy(role.Role.AssumeRolePolicyDocument))) {
    throw deploymentError(
      `the execution role ${roleName} cannot be assumed by Lambda: its trust policy does not allow lambda.amazonaws.com to sts:AssumeRole`,
      roleArn,
    );
  }
}

/** What `ensureExecutionRole` did (or would do). */
export interface RoleAction {
  roleName: string;
  roleArn: string;
  actions: Array<'create' | 'update-trust' | 'put-policy' | 'unchanged' | 'delete'>;
}

/**
 * The deployment's own execution role (`createRole`): created with Lambda's trust policy, the
 * deployment tag and the least-privilege inline policy, or brought back to them. A role of that name
 * without the tag belongs to someone else and is never changed.
 */
export async function ensureExecutionRole(
  context: DeploymentContext,
  scope: Omit<ExecutionRoleScope, 'accountId'> & { accountId: string | undefined },
): Promise<RoleAction> {
  const roleName = executionRoleName(context.model);
  const { iam } = context.clients;
  const existing = await getRole(context, roleName);
  if (existing?.Role && !ownedBy(existing.Role, context.model)) {
    throw deploymentError(
      `an IAM role named ${roleName} exists but has no tag ${deploymentTagKey}=${context.model}: it is not this deployment's; pass its ARN with --role-arn to use it as it is`,
      roleName,
    );
  }
  const accountId = scope.accountId ?? /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(existing?.Role?.Arn ?? '')?.[1];
  const actions: RoleAction['actions'] = [];
  let roleArn = existing?.Role?.Arn ?? `arn:aws:iam::${accountId ?? '<account>'}:role/${roleName}`;
  const policyFor = (account: string): string =>
    JSON.stringify(executionRolePolicy({ ...scope, accountId: account }));
  if (!existing?.Role) {
    actions.push('create', 'put-policy');
    if (!context.dryRun) {
      const created = await context.controlPlane.call(`CreateRole ${roleName}`, () =>
        iam.send(
          new CreateRoleCommand({
            RoleName: roleName,
            AssumeRolePolicyDocument: JSON.stringify(lambdaTrustPolicy),
            Description: `Switchyard expert functions of ${context.model}: their logs, and reading their graphs`,
            Tags: [{ Key: deploymentTagKey, Value: context.model }],
          }),
        ),
      );
      roleArn = created.Role?.Arn ?? roleArn;
      const account = /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(roleArn)?.[1] ?? accountId ?? '';
      await write(context, `PutRolePolicy ${roleName}`, () =>
        iam.send(
          new PutRolePolicyCommand({
            RoleName: roleName,
            PolicyName: executionRolePolicyName,
            PolicyDocument: policyFor(account),
          }),
        ),
      );
      context.controlPlane.roleJustCreated = true;
    }
    return { roleName, roleArn, actions };
  }
  if (!trustsLambda(parsePolicy(existing.Role.AssumeRolePolicyDocument))) {
    actions.push('update-trust');
    await write(context, `UpdateAssumeRolePolicy ${roleName}`, () =>
      iam.send(
        new UpdateAssumeRolePolicyCommand({
          RoleName: roleName,
          PolicyDocument: JSON.stringify(lambdaTrustPolicy),
        }),
      ),
    );
  }
  const wanted = policyFor(accountId ?? '');
  let current: unknown;
  try {
    const answer = await read(context, `GetRolePolicy ${roleName}`, () =>
      iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: executionRolePolicyName })),
    );
    current = parsePolicy(answer.PolicyDocument);
  } catch (error) {
    if (awsErrorName(error) !== 'NoSuchEntity' && awsErrorName(error) !== 'NoSuchEntityException')
      throw error;
  }
  if (!sameJson(current, JSON.parse(wanted))) {
    actions.push('put-policy');
    await write(context, `PutRolePolicy ${roleName}`, () =>
      iam.send(
        new PutRolePolicyCommand({
          RoleName: roleName,
          PolicyName: executionRolePolicyName,
          PolicyDocument: wanted,
        }),
      ),
    );
  }
  if (actions.length === 0) actions.push('unchanged');
  return { roleName, roleArn, actions };
}

/**
 * Deletes the deployment's execution role if this deployment created it (it carries the tag): its
 * inline policies and attachments first, as IAM requires. A role without the tag is left alone.
 */
export async function deleteExecutionRole(context: DeploymentContext): Promise<RoleAction | undefined> {
  const roleName = executionRoleName(context.model);
  const { iam } = context.clients;
  const existing = await getRole(context, roleName);
  if (!existing?.Role || !ownedBy(existing.Role, context.model)) return undefined;
  if (!context.dryRun) {
    const inline = await read(context, `ListRolePolicies ${roleName}`, () =>
      iam.send(new ListRolePoliciesCommand({ RoleName: roleName })),
    );
    for (const policyName of inline.PolicyNames ?? []) {
      await write(context, `DeleteRolePolicy ${roleName}`, () =>
        iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: policyName })),
      );
    }
    const attached = await read(context, `ListAttachedRolePolicies ${roleName}`, () =>
      iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName })),
    );
    for (const policy of attached.AttachedPolicies ?? []) {
      await write(context, `DetachRolePolicy ${roleName}`, () =>
        iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: policy.PolicyArn })),
      );
    }
    await write(context, `DeleteRole ${roleName}`, () =>
      iam.send(new DeleteRoleCommand({ RoleName: roleName })),
    );
  }
  return { roleName, roleArn: existing.Role.Arn ?? roleName, actions: ['delete'] };
}

/** The weights scope of a deployment's role: its bucket and key prefix, when graphs are in S3. */
export function weightsScope(
  bucket: string | undefined,
  prefix: string,
  model: string,
): ExecutionRoleScope['weights'] {
  return bucket ? { bucket, keyPrefix: deploymentKeyPrefix(prefix, model) } : undefined;
}
