import { DeleteFunctionCommand, type GetFunctionCommandOutput } from '@aws-sdk/client-lambda';
import { type DeploymentPlan, deploymentPlanSchema, noopLogger, parseWithSchema } from '@switchyard/core';
import type { LocalRuntime } from '@switchyard/lambda-local';
import { deploymentError, LambdaExecutorError } from '../errors.js';
import { type DeployOptions, deployOptionsSchema, type ResolvedDeployOptions } from '../options.js';
import { accountSettings, callerIdentity, checkQuotas } from './account-checks.js';
import { checkCodeLimits } from './code-limits.js';
import { explainAwsError } from './control-plane.js';
import {
  convergeFunction,
  type DeployActionKind,
  type FunctionSpec,
  getFunction,
  type LiveVersions,
  ownedFunction,
} from './converge-function.js';
import { write } from './deployment-context.js';
import {
  deploymentTagKey,
  layerTagKey,
  provisionedConcurrencyTagKey,
  weightsTagKey,
} from './deployment-names.js';
import { type DesiredFunction, desiredFunctions } from './desired-functions.js';
import { checkExecutionRole, ensureExecutionRole, type RoleAction, weightsScope } from './execution-role.js';
import {
  type CodeStorage,
  type Packaging,
  type PreparedCode,
  prepareAwsCode,
  prepareLocalCode,
} from './function-code.js';
import { deployedEnvironment, expertFunctionHandler, localRoleArn } from './function-settings.js';
import { deploymentFunctions, openDeployment } from './lambda-target.js';
import {
  buildRuntimeLayer,
  ensureRuntimeLayer,
  type LayerAction,
  type RuntimeLayer,
} from './runtime-layer.js';
import { checkBucket, type DeploymentObject, type ObjectAction, uploadObject } from './weights-bucket.js';

export type { DeployActionKind } from './converge-function.js';

/** What a deployment did (or, in a dry run, would do) to one function. */
export interface DeployAction {
  functionName: string;
  actions: DeployActionKind[];
  layer?: number;
  experts?: number[];
  memoryMB?: number;
  reservedConcurrency?: number;
  provisionedConcurrency?: number;
  arch?: 'x86_64' | 'arm64';
  /** Code size: zip bytes on AWS, staged directory on local. */
  codeBytes?: number;
  /** The function's code plus its layer, unzipped (Lambda's limit is 250 MB). */
  unzippedBytes?: number;
  packaging?: Packaging;
  /** The published version of the plan's configuration (not in a dry run). */
  version?: string;
  /** The version `live` points at after the deployment (the previous one when `stageLive` left it). */
  liveVersion?: string;
}

export interface DeployResult {
  target: 'local' | 'aws';
  endpoint?: string;
  dryRun: boolean;
  /** The AWS account (STS), when the deployment asked. */
  accountId?: string;
  functions: DeployAction[];
  /** The execution role `createRole` made or checked. */
  role?: RoleAction;
  /** The shared runtime layers (one per architecture). */
  layers: LayerAction[];
  /** Graphs and big zips in S3. */
  objects: ObjectAction[];
  /** Checks that could not be made (e.g. quotas on an endpoint without GetAccountSettings). */
  warnings: string[];
  /** The in-process runtime, when `target: 'local'` was given no endpoint. Stop it when done. */
  runtime?: LocalRuntime;
}

const descriptionLimit = 256;

/** The function's description: what it holds, within Lambda's 256 characters. */
function functionDescription(model: string, fn: DesiredFunction): string {
  const text = `switchyard expert function: ${model} layer ${fn.layer} experts ${fn.experts.join(',')}`;
  return text.length <= descriptionLimit ? text : `${text.slice(0, descriptionLimit - 1)}…`;
}

/** Whether the plan sends activations through S3 (the role `createRole` makes cannot read or write them). */
function usesS3Transport(plan: DeploymentPlan): number | undefined {
  return plan.layers.find((layer) => layer.method !== 'direct')?.layer;
}

function checkOptions(plan: DeploymentPlan, options: ResolvedDeployOptions): void {
  const { target, dryRun } = options;
  if (target === 'aws' && !options.roleArn && !options.createRole && !dryRun) {
    throw deploymentError(
      'deploying to AWS needs an execution role: pass --role-arn ARN, or --create-role to create a least-privilege one',
      'roleArn',
    );
  }
  if (target === 'local' && (options.createRole || options.roleArn)) {
    throw deploymentError(
      'the embedded runtime has no IAM: --create-role and --role-arn are for --target aws',
      'createRole',
    );
  }
  if (target === 'local' && options.codeBucket) {
    throw deploymentError(
      'a code bucket (--code-bucket) is for --target aws: the embedded runtime runs local code in place',
      'codeBucket',
    );
  }
  if (target === 'local' && options.bucket && !options.s3Endpoint) {
    throw deploymentError(
      "graphs in S3 (--bucket) on the embedded runtime need an S3 that keeps object tags (s3Endpoint, e.g. a moto server; start the runtime with functionS3Endpoint set to it so functions fetch their graphs there): the runtime's own S3 keeps none, which is how undeploy finds them",
      'bucket',
    );
  }
  if (options.offline && !(dryRun && target === 'aws')) {
    throw deploymentError(
      'offline planning is a dry run against AWS: pass --dry-run --target aws',
      'offline',
    );
  }
  const s3Layer = usesS3Transport(plan);
  if (options.createRole && s3Layer !== undefined) {
    throw deploymentError(
      `layer ${s3Layer} of the plan exchanges activations through S3, which the role --create-role makes cannot read or write (it reads the weights prefix only); pass --role-arn with a role that can`,
      'createRole',
    );
  }
}

/** A function's reserved concurrency now (0 when it has none or does not exist). */
function reservedOf(current: GetFunctionCommandOutput | undefined): number {
  return current?.Concurrency?.ReservedConcurrentExecutions ?? 0;
}

/**
 * Deploys a plan: one function per expert group and replica (`layers[].functions[].functionNames`),
 * memory, reserved and provisioned concurrency from the plan, each serving through a `live` alias on
 * a version published from exactly its configuration.
 *
 * On AWS it first reads and checks everything — credentials (STS), the execution role or the one it
 * will create, the weights bucket and its region, every package against Lambda's size limits, that
 * no function of a plan's name belongs to someone else, the account's quotas — and only then writes:
 * the role, the graphs (uploaded once, content-addressed), the shared runtime layer per
 * architecture, the functions. Idempotent: a re-run of an unchanged plan makes no write call, a
 * changed plan touches only what changed, and functions of the model that the plan no longer names
 * are deleted (unless `prune: false`). Everything it creates carries the deployment's tag or name,
 * so a deployment that stopped half-way is finished by the next run or removed by `undeployPlan`.
 */
export async function deployPlan(planInput: unknown, options: DeployOptions): Promise<DeployResult> {
  const plan = parseWithSchema(deploymentPlanSchema, planInput, 'deployment plan', 'PLAN_INVALID');
  const {
    graphs,
    client,
    clients: givenClients,
    handlerBundle,
    random,
    logger = noopLogger,
    ...data
  } = options;
  const resolved = parseWithSchema(deployOptionsSchema, data, 'deployPlan options');
  checkOptions(plan, resolved);
  const { target, dryRun } = resolved;
  const aws = target === 'aws';
  // What AWS gets: zips and the runtime layer (on AWS always; locally with localPackaging 'zip').
  const zipped = aws || resolved.localPackaging === 'zip';
  const model = plan.model.name;
  const { clients, endpoint, runtime, context } = await openDeployment(resolved, model, {
    client,
    clients: givenClients,
    random,
    logger,
  });

  // Reads nothing: an offline dry run, or a local dry run without a runtime to ask.
  const readsState = !resolved.offline && !(target === 'local' && dryRun && !endpoint);
  const result: DeployResult = {
    target,
    endpoint,
    dryRun,
    functions: [],
    layers: [],
    objects: [],
    warnings: [],
    runtime,
  };
  try {
    // 1. Read and check; nothing is written before every check passed.
    const identity = aws && readsState ? await callerIdentity(context) : undefined;
    if (identity) result.accountId = identity.accountId;
    if (aws && readsState && resolved.roleArn) await checkExecutionRole(context, resolved.roleArn);
    if (resolved.bucket && readsState) await checkBucket(context, resolved.bucket);
    if (resolved.codeBucket && resolved.codeBucket !== resolved.bucket && readsState)
      await checkBucket(context, resolved.codeBucket);

    const staged = new Map<string, { bucket: string; object: DeploymentObject }>();
    const storage: CodeStorage = {
      model,
      ...(resolved.bucket ? { weights: { bucket: resolved.bucket, prefix: resolved.prefix } } : {}),
      ...(resolved.codeBucket || resolved.bucket
        ? { code: { bucket: (resolved.codeBucket ?? resolved.bucket) as string, prefix: resolved.prefix } }
        : {}),
      stage(bucket, object) {
        staged.set(`${bucket}/${object.key}`, { bucket, object });
      },
    };
    const desired = desiredFunctions(plan);
    const layers = new Map<'x86_64' | 'arm64', RuntimeLayer>();
    if (zipped) {
      for (const arch of new Set(desired.map((fn) => fn.arch)))
        layers.set(arch, buildRuntimeLayer(model, arch, handlerBundle));
    }
    const codes = new Map<string, PreparedCode>();
    for (const fn of desired) {
      const groupKey = `${fn.layer}/${fn.baseName}`;
      let code = codes.get(groupKey);
      if (!code) {
        code = zipped
          ? await prepareAwsCode(plan, fn, { ...resolved, graphs }, storage)
          : await prepareLocalCode(plan, fn, { ...resolved, graphs }, storage);
        codes.set(groupKey, code);
      }
      const unzippedBytes = checkCodeLimits(
        fn.functionName,
        code.unzippedBytes,
        layers.get(fn.arch)?.unzippedBytes ?? 0,
      );
      result.functions.push({
        functionName: fn.functionName,
        actions: [],
        layer: fn.layer,
        experts: fn.experts,
        memoryMB: fn.memoryMB,
        ...(fn.reservedConcurrency === undefined ? {} : { reservedConcurrency: fn.reservedConcurrency }),
        ...(fn.provisionedConcurrency === undefined
          ? {}
          : { provisionedConcurrency: fn.provisionedConcurrency }),
        arch: fn.arch,
        codeBytes: code.codeBytes,
        unzippedBytes,
        packaging: code.packaging,
      });
    }
    const current = new Map<string, GetFunctionCommandOutput | undefined>();
    if (readsState) {
      for (const fn of desired) {
        const found = await getFunction(context, fn.functionName);
        if (found && !ownedFunction(found, model)) {
          throw deploymentError(
            `a function named ${fn.functionName} exists but is not this deployment's (no tag ${deploymentTagKey}=${model}); rename the plan's functions or delete it`,
            fn.functionName,
          );
        }
        current.set(fn.functionName, found);
      }
    }
    if (aws && readsState) {
      const settings = await accountSettings(context);
      if (!settings.known) result.warnings.push(`account quotas not checked: ${settings.reason}`);
      checkQuotas(settings, {
        reservedChange: desired.reduce(
          (sum, fn) => sum + (fn.reservedConcurrency ?? 0) - reservedOf(current.get(fn.functionName)),
          0,
        ),
        unreservedProvisionedChange: desired.reduce(
          (sum, fn) => sum + (fn.reservedConcurrency === undefined ? (fn.provisionedConcurrency ?? 0) : 0),
          0,
        ),
        codeBytes:
          desired.reduce((sum, fn) => {
            const code = codes.get(`${fn.layer}/${fn.baseName}`);
            const unchanged = current.get(fn.functionName)?.Configuration?.CodeSha256 === code?.sha256;
            // $LATEST and the version published from it.
            return sum + (unchanged ? 0 : 2 * (code?.codeBytes ?? 0));
          }, 0) + [...layers.values()].reduce((sum, layer) => sum + layer.zip.byteLength, 0),
      });
    }

    // 2. Write: role, objects, layers, functions, then prune.
    let roleArn = resolved.roleArn ?? (aws ? undefined : localRoleArn);
    if (resolved.createRole) {
      result.role = await ensureExecutionRole(context, {
        region: resolved.region,
        accountId: identity?.accountId,
        functionNames: desired.map((fn) => fn.functionName),
        weights: weightsScope(resolved.bucket, resolved.prefix, model),
      });
      roleArn = result.role.roleArn;
    }
    for (const { bucket, object } of staged.values()) {
      result.objects.push(
        readsState
          ? await uploadObject(context, bucket, object)
          : { bucket, key: object.key, bytes: object.bytes, actions: ['upload'] },
      );
    }
    const layerArns = new Map<'x86_64' | 'arm64', string>();
    for (const layer of layers.values()) {
      const action = readsState
        ? await ensureRuntimeLayer(context, layer, storage.code)
        : {
            layerName: layer.layerName,
            arch: layer.arch,
            bytes: layer.zip.byteLength,
            actions: ['publish' as const],
          };
      result.layers.push(action);
      layerArns.set(layer.arch, action.layerVersionArn ?? `${layer.layerName}:(new version)`);
    }
    for (const [index, fn] of desired.entries()) {
      const code = codes.get(`${fn.layer}/${fn.baseName}`) as PreparedCode;
      const action = result.functions[index] as DeployAction;
      const spec: FunctionSpec = {
        functionName: fn.functionName,
        code: code.code,
        codeSha256: code.sha256,
        runtime: resolved.runtime,
        roleArn: roleArn ?? '(execution role)',
        handler: expertFunctionHandler,
        memoryMB: fn.memoryMB,
        timeoutSeconds: resolved.timeoutSeconds,
        arch: fn.arch,
        description: functionDescription(model, fn),
        environment: deployedEnvironment(model),
        layers: zipped ? [layerArns.get(fn.arch) as string] : [],
        tags: {
          [deploymentTagKey]: model,
          [layerTagKey]: String(fn.layer),
          ...(resolved.bucket ? { [weightsTagKey]: `s3://${resolved.bucket}/${resolved.prefix}` } : {}),
          ...(fn.provisionedConcurrency === undefined
            ? {}
            : { [provisionedConcurrencyTagKey]: String(fn.provisionedConcurrency) }),
        },
        reservedConcurrency: fn.reservedConcurrency,
        provisionedConcurrency: fn.provisionedConcurrency,
      };
      if (!readsState) {
        action.actions = [
          'create',
          ...(fn.reservedConcurrency === undefined ? [] : ['put-concurrency' as const]),
        ];
        action.actions.push('publish-version', 'create-alias');
        continue;
      }
      try {
        const live: LiveVersions = { stage: resolved.stageLive };
        action.actions = await convergeFunction(context, spec, current.get(fn.functionName), live);
        action.version = live.version;
        action.liveVersion = live.liveVersion;
      } catch (error) {
        if (LambdaExecutorError.isInstance(error)) throw error;
        throw deploymentError(explainAwsError(error) ?? String(error), fn.functionName, error);
      }
    }
    if (resolved.prune && readsState) {
      const wanted = new Set(desired.map((fn) => fn.functionName));
      for (const name of await deploymentFunctions(context)) {
        if (wanted.has(name)) continue;
        result.functions.push({ functionName: name, actions: ['delete'] });
        await write(context, `DeleteFunction ${name}`, () =>
          clients.lambda.send(new DeleteFunctionCommand({ FunctionName: name })),
        );
      }
    }
    logger.debug('deployment converged', { functions: result.functions.length, target, dryRun });
    return result;
  } catch (error) {
    await runtime?.stop();
    if (LambdaExecutorError.isInstance(error)) throw error;
    const explained = explainAwsError(error);
    throw deploymentError(
      explained ?? `deployment failed: ${String(error)}`,
      resolved.endpoint ?? target,
      error,
    );
  } finally {
    clients.destroy();
  }
}
