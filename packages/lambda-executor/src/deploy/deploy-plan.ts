import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  type GetFunctionCommandOutput,
  type LambdaClient,
  PutFunctionConcurrencyCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { type DeploymentPlan, deploymentPlanSchema, noopLogger, parseWithSchema } from '@switchyard/core';
import type { LocalRuntime } from '@switchyard/lambda-local';
import { deploymentError, LambdaExecutorError } from '../errors.js';
import { type DeployOptions, deployOptionsSchema, type ResolvedDeployOptions } from '../options.js';
import { type DesiredFunction, desiredFunctions } from './desired-functions.js';
import { type Packaging, type PreparedCode, prepareAwsCode, prepareLocalCode } from './function-code.js';
import { deployedEnvironment, expertFunctionHandler, expertFunctionRuntime } from './function-settings.js';
import { deployedFunctionNames, describeFunction, resolveTarget } from './lambda-target.js';

export type DeployActionKind =
  | 'create'
  | 'update-code'
  | 'update-configuration'
  | 'put-concurrency'
  | 'delete-concurrency'
  | 'delete'
  | 'unchanged';

/** What a deployment did (or, in a dry run, would do) to one function. */
export interface DeployAction {
  functionName: string;
  actions: DeployActionKind[];
  layer?: number;
  experts?: number[];
  memoryMB?: number;
  reservedConcurrency?: number;
  /** Code size: zip bytes on AWS, staged directory on local. */
  codeBytes?: number;
  unzippedBytes?: number;
  packaging?: Packaging;
}

export interface DeployResult {
  target: 'local' | 'aws';
  endpoint?: string;
  dryRun: boolean;
  functions: DeployAction[];
  /** The in-process runtime, when `target: 'local'` was given no endpoint. Stop it when done. */
  runtime?: LocalRuntime;
}

/** Settings every function of one deployment gets. */
interface FunctionSettings {
  plan: DeploymentPlan;
  options: ResolvedDeployOptions;
}

/**
 * Brings one function to the plan: creates it, or updates what differs from what GetFunction reported
 * (code by CodeSha256, configuration, reserved concurrency). A dry run only records the actions.
 */
async function convergeFunction(
  client: LambdaClient,
  fn: DesiredFunction,
  code: PreparedCode,
  current: GetFunctionCommandOutput | undefined,
  { plan, options }: FunctionSettings,
): Promise<DeployActionKind[]> {
  const actions: DeployActionKind[] = [];
  // Records the action; makes the call unless this is a dry run.
  const apply = async (action: DeployActionKind, call: () => Promise<unknown>): Promise<void> => {
    actions.push(action);
    if (!options.dryRun) await call();
  };
  const { functionName, memoryMB, reservedConcurrency } = fn;
  const timeout = options.timeoutSeconds;
  const description = `switchyard expert function: ${plan.model.name} layer ${fn.layer} experts ${fn.experts.join(',')}`;
  const environment = { Variables: deployedEnvironment(plan.model.name) };
  const putConcurrency = (value: number) => () =>
    client.send(
      new PutFunctionConcurrencyCommand({ FunctionName: functionName, ReservedConcurrentExecutions: value }),
    );
  if (!current) {
    await apply('create', () =>
      client.send(
        new CreateFunctionCommand({
          FunctionName: functionName,
          Runtime: expertFunctionRuntime,
          Role: options.roleArn ?? 'arn:aws:iam::000000000000:role/switchyard-local',
          Handler: expertFunctionHandler,
          Code: code.code,
          MemorySize: memoryMB,
          Timeout: timeout,
          Description: description,
          Architectures: [plan.arch],
          Environment: environment,
          Tags: { 'switchyard:model': plan.model.name, 'switchyard:layer': String(fn.layer) },
        }),
      ),
    );
    if (reservedConcurrency !== undefined)
      await apply('put-concurrency', putConcurrency(reservedConcurrency));
    return actions;
  }
  const configuration = current.Configuration ?? {};
  if (configuration.CodeSha256 !== code.sha256) {
    const { ZipFile, S3Bucket, S3Key } = code.code;
    await apply('update-code', () =>
      client.send(new UpdateFunctionCodeCommand({ FunctionName: functionName, ZipFile, S3Bucket, S3Key })),
    );
  }
  const configurationDiffers =
    configuration.MemorySize !== memoryMB ||
    configuration.Timeout !== timeout ||
    configuration.Handler !== expertFunctionHandler ||
    Object.entries(environment.Variables).some(
      ([name, value]) => configuration.Environment?.Variables?.[name] !== value,
    );
  if (configurationDiffers) {
    await apply('update-configuration', () =>
      client.send(
        new UpdateFunctionConfigurationCommand({
          FunctionName: functionName,
          MemorySize: memoryMB,
          Timeout: timeout,
          Handler: expertFunctionHandler,
          Description: description,
          Environment: environment,
        }),
      ),
    );
  }
  if (current.Concurrency?.ReservedConcurrentExecutions !== reservedConcurrency) {
    if (reservedConcurrency === undefined) {
      await apply('delete-concurrency', () =>
        client.send(new DeleteFunctionConcurrencyCommand({ FunctionName: functionName })),
      );
    } else {
      await apply('put-concurrency', putConcurrency(reservedConcurrency));
    }
  }
  if (actions.length === 0) actions.push('unchanged');
  return actions;
}

/**
 * Deploys a plan: one function per expert group and replica (`layers[].functions[].functionNames`),
 * memory and reserved concurrency from the plan. Idempotent: it reads each function's current state
 * and only creates, updates code, updates configuration or changes concurrency where they differ;
 * functions of the same model that the plan no longer names are deleted (unless `prune: false`).
 */
export async function deployPlan(planInput: unknown, options: DeployOptions): Promise<DeployResult> {
  const plan = parseWithSchema(deploymentPlanSchema, planInput, 'deployment plan', 'PLAN_INVALID');
  const { graphs, client: givenClient, handlerBundle, logger = noopLogger, ...data } = options;
  const resolved = parseWithSchema(deployOptionsSchema, data, 'deployPlan options');
  const { target, dryRun } = resolved;
  if (target === 'aws' && !resolved.roleArn && !dryRun) {
    throw deploymentError('deploying to AWS needs an execution role: pass roleArn (--role-arn)', 'roleArn');
  }
  const { client, endpoint, runtime, ownsClient } = await resolveTarget({
    ...resolved,
    client: givenClient,
    logger,
  });
  // A dry run against AWS reads nothing: every function counts as new.
  const readsState = !(dryRun && target === 'aws' && !resolved.endpoint);
  const functions: DeployAction[] = [];
  try {
    const prepared = new Map<string, PreparedCode>();
    const desired = desiredFunctions(plan);
    for (const fn of desired) {
      const groupKey = `${fn.layer}/${fn.baseName}`;
      let code = prepared.get(groupKey);
      if (!code) {
        const codeOptions = { ...resolved, graphs, handlerBundle };
        code =
          target === 'local'
            ? await prepareLocalCode(plan, fn, codeOptions)
            : await prepareAwsCode(plan, fn, codeOptions);
        prepared.set(groupKey, code);
      }
      const action: DeployAction = {
        functionName: fn.functionName,
        actions: [],
        layer: fn.layer,
        experts: fn.experts,
        memoryMB: fn.memoryMB,
        reservedConcurrency: fn.reservedConcurrency,
        codeBytes: code.codeBytes,
        unzippedBytes: code.unzippedBytes,
        packaging: code.packaging,
      };
      functions.push(action);
      if (code.packaging === 'container-image') {
        if (!dryRun) {
          throw deploymentError(
            `the package is ${code.unzippedBytes} bytes unzipped, over Lambda's 250 MB zip limit; build the container image (containerDockerfile) with the graphs in S3`,
            fn.functionName,
          );
        }
        action.actions.push('create');
        continue;
      }
      const current = readsState ? await describeFunction(client, fn.functionName) : undefined;
      action.actions = await convergeFunction(client, fn, code, current, { plan, options: resolved });
    }
    if (resolved.prune && readsState) {
      const wanted = new Set(desired.map((fn) => fn.functionName));
      for (const name of await deployedFunctionNames(client, plan.model.name)) {
        if (wanted.has(name)) continue;
        functions.push({ functionName: name, actions: ['delete'] });
        if (!dryRun) await client.send(new DeleteFunctionCommand({ FunctionName: name }));
      }
    }
    logger.debug('deployment converged', { functions: functions.length, target, dryRun });
    return { target, endpoint, dryRun, functions, runtime };
  } catch (error) {
    await runtime?.stop();
    if (LambdaExecutorError.isInstance(error)) throw error;
    throw deploymentError(`deployment failed: ${String(error)}`, resolved.endpoint ?? target, error);
  } finally {
    if (ownsClient && !runtime) client.destroy();
  }
}
