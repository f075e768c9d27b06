import { createHash } from 'node:crypto';
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  DeleteProvisionedConcurrencyConfigCommand,
  type FunctionCode,
  GetAliasCommand,
  type GetAliasCommandOutput,
  GetFunctionCommand,
  type GetFunctionCommandOutput,
  GetProvisionedConcurrencyConfigCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  PutProvisionedConcurrencyConfigCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { deploymentError } from '../errors.js';
import type { FunctionRuntime } from '../options.js';
import { awsErrorName } from './control-plane.js';
import { type DeploymentContext, read, write } from './deployment-context.js';
import { deploymentTagKey, liveAlias, provisionedConcurrencyTagKey } from './deployment-names.js';
import { deploymentEnvVar } from './function-settings.js';

export type DeployActionKind =
  | 'create'
  | 'update-code'
  | 'update-configuration'
  | 'tag'
  | 'put-concurrency'
  | 'delete-concurrency'
  | 'publish-version'
  | 'create-alias'
  | 'update-alias'
  | 'put-provisioned-concurrency'
  | 'delete-provisioned-concurrency'
  | 'delete'
  | 'unchanged';

/** Everything one function should be, as CreateFunction and the later calls set it. */
export interface FunctionSpec {
  functionName: string;
  code: FunctionCode;
  /** What GetFunction reports as `CodeSha256` once `code` is deployed. */
  codeSha256: string;
  runtime: FunctionRuntime;
  roleArn: string;
  handler: string;
  memoryMB: number;
  timeoutSeconds: number;
  arch: 'x86_64' | 'arm64';
  description: string;
  environment: Record<string, string>;
  /** Layer version ARNs, in order. */
  layers: string[];
  tags: Record<string, string>;
  reservedConcurrency: number | undefined;
  provisionedConcurrency: number | undefined;
}

/**
 * How a deployment treats an existing `live` alias, and what it found and did: `stage` publishes the
 * new version and leaves `live` where it is (a rollout moves it, `routeLiveAlias`); afterwards
 * `version` is the version of this configuration and `liveVersion` the one `live` points at.
 */
export interface LiveVersions {
  stage: boolean;
  version?: string;
  liveVersion?: string;
}

/** The configuration a version is published from: code and every setting, as one hash. */
export function functionFingerprint(spec: FunctionSpec): string {
  const settings = {
    code: spec.codeSha256,
    runtime: spec.runtime,
    role: spec.roleArn,
    handler: spec.handler,
    memory: spec.memoryMB,
    timeout: spec.timeoutSeconds,
    arch: spec.arch,
    environment: Object.entries(spec.environment).sort(([a], [b]) => a.localeCompare(b)),
    layers: spec.layers,
  };
  return createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 32);
}

/** The description a published version and the `live` alias carry: how a re-run knows they are current. */
const versionDescription = (spec: FunctionSpec): string => `switchyard ${functionFingerprint(spec)}`;

/** GetFunction, or undefined for a function that does not exist. */
export async function getFunction(
  context: DeploymentContext,
  functionName: string,
): Promise<GetFunctionCommandOutput | undefined> {
  try {
    return await read(context, `GetFunction ${functionName}`, () =>
      context.clients.lambda.send(new GetFunctionCommand({ FunctionName: functionName })),
    );
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') return undefined;
    throw deploymentError(`GetFunction failed: ${String(error)}`, functionName, error);
  }
}

/**
 * Whether an existing function is this deployment's: it carries the deployment tag, or (functions
 * deployed before tags) the `SWITCHYARD_DEPLOYMENT` variable naming the model.
 */
export function ownedFunction(current: GetFunctionCommandOutput, model: string): boolean {
  const tag = current.Tags?.[deploymentTagKey];
  if (tag !== undefined) return tag === model;
  return current.Configuration?.Environment?.Variables?.[deploymentEnvVar] === model;
}

/** Whether the function's configuration differs from the spec in anything UpdateFunctionConfiguration sets. */
function configurationDiffers(current: GetFunctionCommandOutput, spec: FunctionSpec): boolean {
  const configuration = current.Configuration ?? {};
  const variables = configuration.Environment?.Variables ?? {};
  const layers = (configuration.Layers ?? []).map((layer) => layer.Arn);
  return (
    configuration.MemorySize !== spec.memoryMB ||
    configuration.Timeout !== spec.timeoutSeconds ||
    configuration.Handler !== spec.handler ||
    configuration.Runtime !== spec.runtime ||
    configuration.Role !== spec.roleArn ||
    (configuration.Description ?? '') !== spec.description ||
    Object.keys(variables).length !== Object.keys(spec.environment).length ||
    Object.entries(spec.environment).some(([name, value]) => variables[name] !== value) ||
    layers.length !== spec.layers.length ||
    spec.layers.some((arn, index) => layers[index] !== arn)
  );
}

async function getAlias(
  context: DeploymentContext,
  functionName: string,
): Promise<GetAliasCommandOutput | undefined> {
  try {
    return await read(context, `GetAlias ${functionName}:${liveAlias}`, () =>
      context.clients.lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: liveAlias })),
    );
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

/**
 * Brings one function to its spec, as AWS behaves: after CreateFunction it waits for Active, after
 * each update for the update to finish (an update still in progress answers ResourceConflictException
 * to the next call, which the control plane also retries). Then reserved concurrency, a version
 * published from exactly this configuration and the `live` alias on it, and provisioned concurrency
 * on the alias. Every step reads first and writes only what differs, so a re-run of an unchanged
 * plan makes no write call. A function of that name that is not this deployment's is never touched.
 */
export async function convergeFunction(
  context: DeploymentContext,
  spec: FunctionSpec,
  current: GetFunctionCommandOutput | undefined,
  live: LiveVersions = { stage: false },
): Promise<DeployActionKind[]> {
  const { lambda } = context.clients;
  const name = spec.functionName;
  const actions: DeployActionKind[] = [];
  if (current && !ownedFunction(current, context.model)) {
    throw deploymentError(
      `a function named ${name} exists but is not this deployment's (no tag ${deploymentTagKey}=${context.model}); rename the plan's functions or delete it`,
      name,
    );
  }
  const configuration = {
    Runtime: spec.runtime,
    Role: spec.roleArn,
    Handler: spec.handler,
    MemorySize: spec.memoryMB,
    Timeout: spec.timeoutSeconds,
    Description: spec.description,
    Environment: { Variables: spec.environment },
    Layers: spec.layers,
  } as const;
  let functionArn = current?.Configuration?.FunctionArn;
  if (!current) {
    actions.push('create');
    const created = await write(context, `CreateFunction ${name}`, () =>
      lambda.send(
        new CreateFunctionCommand({
          FunctionName: name,
          ...configuration,
          Layers: [...spec.layers],
          Code: spec.code,
          Architectures: [spec.arch],
          PackageType: 'Zip',
          Tags: spec.tags,
        }),
      ),
    );
    functionArn = created?.FunctionArn;
    if (!context.dryRun) await context.controlPlane.waitFor(lambda, 'active', name);
  } else {
    const architecture = current.Configuration?.Architectures?.[0] ?? 'x86_64';
    if (current.Configuration?.CodeSha256 !== spec.codeSha256 || architecture !== spec.arch) {
      actions.push('update-code');
      const { ZipFile, S3Bucket, S3Key } = spec.code;
      await write(context, `UpdateFunctionCode ${name}`, () =>
        lambda.send(
          new UpdateFunctionCodeCommand({
            FunctionName: name,
            ZipFile,
            S3Bucket,
            S3Key,
            Architectures: [spec.arch],
          }),
        ),
      );
      if (!context.dryRun) await context.controlPlane.waitFor(lambda, 'updated', name);
    }
    if (configurationDiffers(current, spec)) {
      actions.push('update-configuration');
      await write(context, `UpdateFunctionConfiguration ${name}`, () =>
        lambda.send(
          new UpdateFunctionConfigurationCommand({
            FunctionName: name,
            ...configuration,
            Layers: [...spec.layers],
          }),
        ),
      );
      if (!context.dryRun) await context.controlPlane.waitFor(lambda, 'updated', name);
    }
    const missingTags = Object.entries(spec.tags).filter(([key, value]) => current.Tags?.[key] !== value);
    if (missingTags.length > 0 && current.Configuration?.FunctionArn) {
      actions.push('tag');
      const resource = current.Configuration.FunctionArn;
      await write(context, `TagResource ${name}`, () =>
        lambda.send(new TagResourceCommand({ Resource: resource, Tags: Object.fromEntries(missingTags) })),
      );
    }
  }
  const reserved = current?.Concurrency?.ReservedConcurrentExecutions;
  if (reserved !== spec.reservedConcurrency) {
    if (spec.reservedConcurrency === undefined) {
      actions.push('delete-concurrency');
      await write(context, `DeleteFunctionConcurrency ${name}`, () =>
        lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: name })),
      );
    } else {
      actions.push('put-concurrency');
      const value = spec.reservedConcurrency;
      await write(context, `PutFunctionConcurrency ${name}`, () =>
        lambda.send(
          new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: value }),
        ),
      );
    }
  }
  await convergeAlias(context, spec, current === undefined, actions, live);
  await convergeProvisionedConcurrency(context, spec, current, functionArn, actions);
  if (actions.length === 0) actions.push('unchanged');
  return actions;
}

/**
 * Publishes a version of exactly this configuration and points `live` at it, unless `live` already
 * carries this configuration's fingerprint. PublishVersion is guarded by the expected CodeSha256
 * and, when nothing changed since the last version (a deploy that stopped between publishing and
 * moving the alias), Lambda returns that version instead of a new one. Moving the alias clears any
 * weighted routing a rollout left on it.
 */
async function convergeAlias(
  context: DeploymentContext,
  spec: FunctionSpec,
  created: boolean,
  actions: DeployActionKind[],
  live: LiveVersions,
): Promise<void> {
  const { lambda } = context.clients;
  const name = spec.functionName;
  const description = versionDescription(spec);
  const alias = created && context.dryRun ? undefined : await getAlias(context, name);
  if (alias?.Description === description) {
    live.version = alias.FunctionVersion;
    live.liveVersion = alias.FunctionVersion;
    return;
  }
  // Staged: the version is published, and `live` stays on the one that serves now.
  const staged = live.stage && alias !== undefined;
  actions.push(
    'publish-version',
    ...(staged ? [] : [alias ? ('update-alias' as const) : ('create-alias' as const)]),
  );
  if (context.dryRun) return;
  const version = await context.controlPlane.call(`PublishVersion ${name}`, () =>
    lambda.send(
      new PublishVersionCommand({
        FunctionName: name,
        Description: description,
        CodeSha256: spec.codeSha256,
      }),
    ),
  );
  const versionNumber = version.Version;
  if (!versionNumber) throw deploymentError('PublishVersion answered no version number', name);
  await context.controlPlane.waitFor(lambda, 'version-active', name, versionNumber);
  live.version = versionNumber;
  live.liveVersion = staged ? alias?.FunctionVersion : versionNumber;
  if (staged) return;
  if (alias) {
    await write(context, `UpdateAlias ${name}:${liveAlias}`, () =>
      lambda.send(
        new UpdateAliasCommand({
          FunctionName: name,
          Name: liveAlias,
          FunctionVersion: versionNumber,
          Description: description,
          RoutingConfig: { AdditionalVersionWeights: {} },
        }),
      ),
    );
  } else {
    await write(context, `CreateAlias ${name}:${liveAlias}`, () =>
      lambda.send(
        new CreateAliasCommand({
          FunctionName: name,
          Name: liveAlias,
          FunctionVersion: versionNumber,
          Description: description,
        }),
      ),
    );
  }
}

/**
 * Provisioned concurrency on the `live` alias, when the plan asks for it. The function's tag
 * (`switchyard:provisioned-concurrency`, part of the spec's tags) records that this deployment
 * configured it, so a plan without it touches the provisioned-concurrency API only to remove what an
 * earlier deploy set (AWS bills provisioned concurrency by the hour whether used or not).
 */
async function convergeProvisionedConcurrency(
  context: DeploymentContext,
  spec: FunctionSpec,
  current: GetFunctionCommandOutput | undefined,
  functionArn: string | undefined,
  actions: DeployActionKind[],
): Promise<void> {
  const { lambda } = context.clients;
  const name = spec.functionName;
  const wanted = spec.provisionedConcurrency;
  const recorded = current?.Tags?.[provisionedConcurrencyTagKey];
  if (wanted === undefined) {
    if (recorded === undefined) return;
    actions.push('delete-provisioned-concurrency');
    await write(context, `DeleteProvisionedConcurrencyConfig ${name}:${liveAlias}`, async () => {
      try {
        await lambda.send(
          new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: liveAlias }),
        );
      } catch (error) {
        if (awsErrorName(error) !== 'ProvisionedConcurrencyConfigNotFoundException') throw error;
      }
    });
    if (functionArn) {
      await write(context, `UntagResource ${name}`, () =>
        lambda.send(
          new UntagResourceCommand({ Resource: functionArn, TagKeys: [provisionedConcurrencyTagKey] }),
        ),
      );
    }
    return;
  }
  let requested: number | undefined;
  if (current) {
    try {
      const config = await read(context, `GetProvisionedConcurrencyConfig ${name}:${liveAlias}`, () =>
        lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: liveAlias })),
      );
      requested = config.RequestedProvisionedConcurrentExecutions;
    } catch (error) {
      if (awsErrorName(error) !== 'ProvisionedConcurrencyConfigNotFoundException') throw error;
    }
  }
  if (requested !== wanted) {
    actions.push('put-provisioned-concurrency');
    await write(context, `PutProvisionedConcurrencyConfig ${name}:${liveAlias}`, () =>
      lambda.send(
        new PutProvisionedConcurrencyConfigCommand({
          FunctionName: name,
          Qualifier: liveAlias,
          ProvisionedConcurrentExecutions: wanted,
        }),
      ),
    );
  }
}
