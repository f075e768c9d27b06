import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  type FunctionCode,
  GetFunctionCommand,
  type GetFunctionCommandOutput,
  LambdaClient,
  ListFunctionsCommand,
  PutFunctionConcurrencyCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import {
  type DeploymentPlan,
  deploymentPlanSchema,
  expertProcessEnvironment,
  type Logger,
  noopLogger,
  parseWithSchema,
} from '@switchyard/core';
import { LambdaExecutorError } from '../errors.js';
import { expertManifestFile } from '../handler/manifest.js';
import { type LocalRuntime, localCodeBucket, startLocalRuntime } from '../runtime/local-runtime.js';
import {
  type ExpertGraphSource,
  graphPath,
  maxDirectZipBytes,
  packageExpertFunction,
  zipPackage,
} from './packaging.js';

/** Environment variable that marks a function as deployed by Switchyard for a model (for pruning). */
export const deploymentEnvVar = 'SWITCHYARD_DEPLOYMENT';
export const expertFunctionHandler = 'expert-function.handler';

/**
 * Environment every expert function gets besides `SWITCHYARD_DEPLOYMENT`: core's
 * `expertProcessEnvironment` (glibc malloc thresholds, so an invocation's large temporary buffers are
 * not handed back to the kernel and faulted in again on the next one).
 * `pnpm --filter @switchyard/lambda-executor bench:malloc` measures it against glibc's defaults.
 */
export const expertFunctionEnvironment: Readonly<Record<string, string>> = expertProcessEnvironment;

export interface DeployOptions {
  target: 'local' | 'aws';
  /** Lambda API endpoint; for `local` without it, a runtime is started in process (and returned). */
  endpoint?: string;
  region?: string;
  /** Execution role (required for `aws` unless dry-run). */
  roleArn?: string;
  /** ONNX bytes per (layer, expert), e.g. `(l, e) => buildExpertGraph(model, l, e)`. */
  graphs: ExpertGraphSource;
  dryRun?: boolean;
  /** Function timeout in seconds (default 60). */
  timeoutSeconds?: number;
  /** Where local deployments stage their code (default `$TMPDIR/switchyard-deploy/<model>`). */
  stageDir?: string;
  /** For `aws`: S3 bucket for zips over 50 MB. */
  codeBucket?: string;
  client?: LambdaClient;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Handler bundle bytes (default: the built `dist/lambda/expert-function.mjs`). */
  handlerBundle?: Uint8Array;
  /**
   * Delete functions of the same model that the plan does not name (default true). A rollout that
   * deploys a new plan next to the one still serving passes false.
   */
  prune?: boolean;
  logger?: Logger;
}

export type DeployActionKind =
  | 'create'
  | 'update-code'
  | 'update-configuration'
  | 'put-concurrency'
  | 'delete-concurrency'
  | 'delete'
  | 'unchanged';

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
  packaging?: 'zip' | 's3-zip' | 'container-image' | 'local-directory';
}

export interface DeployResult {
  target: 'local' | 'aws';
  endpoint?: string;
  dryRun: boolean;
  functions: DeployAction[];
  /** The in-process runtime, when `target: 'local'` was given no endpoint. Stop it when done. */
  runtime?: LocalRuntime;
}

interface DesiredFunction {
  functionName: string;
  baseName: string;
  layer: number;
  experts: number[];
  memoryMB: number;
  reservedConcurrency: number | undefined;
}

function desiredFunctions(plan: DeploymentPlan): DesiredFunction[] {
  return plan.layers.flatMap((layer) =>
    layer.functions.flatMap((fn) =>
      fn.functionNames.map((functionName) => ({
        functionName,
        baseName: fn.name,
        layer: layer.layer,
        experts: [...fn.experts].sort((a, b) => a - b),
        memoryMB: fn.memoryMB,
        reservedConcurrency: fn.reservedConcurrency,
      })),
    ),
  );
}

function deployError(message: string, location: string, cause?: unknown): LambdaExecutorError {
  return new LambdaExecutorError({
    code: 'DEPLOYMENT_FAILED',
    message,
    location,
    ...(cause ? { cause } : {}),
  });
}

/** The expert-function module a local deployment re-exports (source under tsx, or the build). */
function localHandlerModuleUrl(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  return new URL(
    fromSource ? '../handler/expert-function.ts' : './lambda/expert-function.mjs',
    import.meta.url,
  ).href;
}

async function resolveTarget(
  options: DeployOptions,
): Promise<{ client: LambdaClient; endpoint?: string; runtime?: LocalRuntime; ownsClient: boolean }> {
  let runtime: LocalRuntime | undefined;
  let endpoint = options.endpoint;
  if (options.target === 'local' && !endpoint && !options.client && !options.dryRun) {
    runtime = await startLocalRuntime({ ...(options.logger ? { logger: options.logger } : {}) });
    endpoint = runtime.endpoint;
  }
  if (options.client) return { client: options.client, ...(endpoint ? { endpoint } : {}), ownsClient: false };
  const credentials =
    options.credentials ??
    (options.target === 'local' ? { accessKeyId: 'local', secretAccessKey: 'local' } : undefined);
  const client = new LambdaClient({
    region: options.region ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    ...(credentials ? { credentials } : {}),
  });
  return { client, ...(endpoint ? { endpoint } : {}), ...(runtime ? { runtime } : {}), ownsClient: true };
}

async function describe(client: LambdaClient, name: string): Promise<GetFunctionCommandOutput | undefined> {
  try {
    return await client.send(new GetFunctionCommand({ FunctionName: name }));
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw deployError(`GetFunction failed: ${String(error)}`, name, error);
  }
}

/** Code for one function group, prepared once and shared by its replicas. */
interface PreparedCode {
  code: FunctionCode;
  sha256: string;
  codeBytes: number;
  unzippedBytes: number;
  packaging: NonNullable<DeployAction['packaging']>;
}

async function prepareLocalCode(
  plan: DeploymentPlan,
  fn: DesiredFunction,
  options: DeployOptions,
): Promise<PreparedCode> {
  const manifest = {
    kind: 'switchyard.expert-manifest' as const,
    version: 1 as const,
    hiddenSize: plan.model.hiddenSize,
    experts: fn.experts.map((expert) => ({ layer: fn.layer, expert, file: graphPath(fn.layer, expert) })),
  };
  const entry = `export { handler } from ${JSON.stringify(localHandlerModuleUrl())};\n`;
  const files: Array<[string, Uint8Array]> = [];
  for (const expert of fn.experts)
    files.push([graphPath(fn.layer, expert), await options.graphs(fn.layer, expert)]);
  files.push([expertManifestFile, new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`)]);
  files.push(['expert-function.mjs', new TextEncoder().encode(entry)]);
  const hash = createHash('sha256');
  for (const [path, data] of files) hash.update(path).update(data);
  const digest = hash.digest('hex').slice(0, 16);
  const root =
    options.stageDir ?? join(tmpdir(), 'switchyard-deploy', plan.model.name.replace(/[^A-Za-z0-9_.-]/g, '_'));
  // The directory name carries the content hash: changed content → new path → new CodeSha256.
  const dir = join(root, `${fn.baseName}-${digest}`);
  let bytes = 0;
  if (!options.dryRun) {
    for (const [path, data] of files) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), data);
    }
  }
  for (const [, data] of files) bytes += data.byteLength;
  return {
    code: { S3Bucket: localCodeBucket, S3Key: dir },
    sha256: createHash('sha256').update(dir).digest('base64'),
    codeBytes: bytes,
    unzippedBytes: bytes,
    packaging: 'local-directory',
  };
}

async function prepareAwsCode(
  plan: DeploymentPlan,
  fn: DesiredFunction,
  options: DeployOptions,
): Promise<PreparedCode> {
  const pkg = await packageExpertFunction({
    layer: fn.layer,
    experts: fn.experts,
    hiddenSize: plan.model.hiddenSize,
    graphs: options.graphs,
    arch: plan.arch,
    ...(options.handlerBundle ? { handlerBundle: options.handlerBundle } : {}),
  });
  if (!pkg.fitsZip) {
    return {
      code: {},
      sha256: '',
      codeBytes: 0,
      unzippedBytes: pkg.unzippedBytes,
      packaging: 'container-image',
    };
  }
  const zip = zipPackage(pkg);
  const sha256 = createHash('sha256').update(zip).digest('base64');
  if (zip.byteLength <= maxDirectZipBytes) {
    return {
      code: { ZipFile: zip },
      sha256,
      codeBytes: zip.byteLength,
      unzippedBytes: pkg.unzippedBytes,
      packaging: 'zip',
    };
  }
  if (!options.codeBucket && !options.dryRun) {
    throw deployError(
      `the zip is ${zip.byteLength} bytes, over the 50 MB inline limit; pass codeBucket (--code-bucket) to upload it through S3`,
      fn.functionName,
    );
  }
  const key = `switchyard/${fn.baseName}-${sha256.replace(/[^A-Za-z0-9]/g, '').slice(0, 16)}.zip`;
  if (!options.dryRun && options.codeBucket) {
    const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
    const s3 = new S3Client({ region: options.region ?? 'us-east-1' });
    await s3.send(new PutObjectCommand({ Bucket: options.codeBucket, Key: key, Body: zip }));
    s3.destroy();
  }
  return {
    code: { S3Bucket: options.codeBucket ?? '(code bucket)', S3Key: key },
    sha256,
    codeBytes: zip.byteLength,
    unzippedBytes: pkg.unzippedBytes,
    packaging: 's3-zip',
  };
}

/**
 * Deploys a plan: one function per expert group and replica (`layers[].functions[].functionNames`),
 * memory and reserved concurrency from the plan. Idempotent: it reads each function's current state
 * and only creates, updates code, updates configuration or changes concurrency where they differ;
 * functions of the same model that the plan no longer names are deleted.
 */
export async function deployPlan(planInput: unknown, options: DeployOptions): Promise<DeployResult> {
  const plan = parseWithSchema(deploymentPlanSchema, planInput, 'deployment plan', 'PLAN_INVALID');
  const logger = options.logger ?? noopLogger;
  const dryRun = options.dryRun ?? false;
  if (options.target === 'aws' && !options.roleArn && !dryRun) {
    throw deployError('deploying to AWS needs an execution role: pass roleArn (--role-arn)', 'roleArn');
  }
  const { client, endpoint, runtime, ownsClient } = await resolveTarget(options);
  const timeout = options.timeoutSeconds ?? 60;
  const functions: DeployAction[] = [];
  try {
    const prepared = new Map<string, PreparedCode>();
    const desired = desiredFunctions(plan);
    for (const fn of desired) {
      const groupKey = `${fn.layer}/${fn.baseName}`;
      let code = prepared.get(groupKey);
      if (!code) {
        code =
          options.target === 'local'
            ? await prepareLocalCode(plan, fn, options)
            : await prepareAwsCode(plan, fn, options);
        prepared.set(groupKey, code);
      }
      const action: DeployAction = {
        functionName: fn.functionName,
        actions: [],
        layer: fn.layer,
        experts: fn.experts,
        memoryMB: fn.memoryMB,
        ...(fn.reservedConcurrency === undefined ? {} : { reservedConcurrency: fn.reservedConcurrency }),
        codeBytes: code.codeBytes,
        unzippedBytes: code.unzippedBytes,
        packaging: code.packaging,
      };
      functions.push(action);
      if (code.packaging === 'container-image') {
        if (!dryRun) {
          throw deployError(
            `the package is ${code.unzippedBytes} bytes unzipped, over Lambda's 250 MB zip limit; build the container image (containerDockerfile) with the graphs in S3`,
            fn.functionName,
          );
        }
        action.actions.push('create');
        continue;
      }
      const current =
        dryRun && options.target === 'aws' && !options.endpoint
          ? undefined
          : await describe(client, fn.functionName);
      const description = `switchyard expert function: ${plan.model.name} layer ${fn.layer} experts ${fn.experts.join(',')}`;
      const environment = {
        Variables: { ...expertFunctionEnvironment, [deploymentEnvVar]: plan.model.name },
      };
      if (!current) {
        action.actions.push('create');
        if (!dryRun) {
          await client.send(
            new CreateFunctionCommand({
              FunctionName: fn.functionName,
              Runtime: 'nodejs20.x',
              Role: options.roleArn ?? 'arn:aws:iam::000000000000:role/switchyard-local',
              Handler: expertFunctionHandler,
              Code: code.code,
              MemorySize: fn.memoryMB,
              Timeout: timeout,
              Description: description,
              Architectures: [plan.arch],
              Environment: environment,
              Tags: { 'switchyard:model': plan.model.name, 'switchyard:layer': String(fn.layer) },
            }),
          );
        }
        if (fn.reservedConcurrency !== undefined) {
          action.actions.push('put-concurrency');
          if (!dryRun) {
            await client.send(
              new PutFunctionConcurrencyCommand({
                FunctionName: fn.functionName,
                ReservedConcurrentExecutions: fn.reservedConcurrency,
              }),
            );
          }
        }
        continue;
      }
      const configuration = current.Configuration ?? {};
      if (configuration.CodeSha256 !== code.sha256) {
        action.actions.push('update-code');
        if (!dryRun) {
          await client.send(
            new UpdateFunctionCodeCommand({
              FunctionName: fn.functionName,
              ...(code.code.ZipFile ? { ZipFile: code.code.ZipFile } : {}),
              ...(code.code.S3Bucket ? { S3Bucket: code.code.S3Bucket, S3Key: code.code.S3Key } : {}),
            }),
          );
        }
      }
      if (
        configuration.MemorySize !== fn.memoryMB ||
        configuration.Timeout !== timeout ||
        configuration.Handler !== expertFunctionHandler ||
        Object.entries(environment.Variables).some(
          ([name, value]) => configuration.Environment?.Variables?.[name] !== value,
        )
      ) {
        action.actions.push('update-configuration');
        if (!dryRun) {
          await client.send(
            new UpdateFunctionConfigurationCommand({
              FunctionName: fn.functionName,
              MemorySize: fn.memoryMB,
              Timeout: timeout,
              Handler: expertFunctionHandler,
              Description: description,
              Environment: environment,
            }),
          );
        }
      }
      const reserved = current.Concurrency?.ReservedConcurrentExecutions;
      if (reserved !== fn.reservedConcurrency) {
        if (fn.reservedConcurrency === undefined) {
          action.actions.push('delete-concurrency');
          if (!dryRun)
            await client.send(new DeleteFunctionConcurrencyCommand({ FunctionName: fn.functionName }));
        } else {
          action.actions.push('put-concurrency');
          if (!dryRun) {
            await client.send(
              new PutFunctionConcurrencyCommand({
                FunctionName: fn.functionName,
                ReservedConcurrentExecutions: fn.reservedConcurrency,
              }),
            );
          }
        }
      }
      if (action.actions.length === 0) action.actions.push('unchanged');
    }
    if (options.prune !== false && !(dryRun && options.target === 'aws' && !options.endpoint)) {
      const wanted = new Set(desired.map((fn) => fn.functionName));
      for (const name of await deployedFunctionNames(client, plan.model.name)) {
        if (wanted.has(name)) continue;
        functions.push({ functionName: name, actions: ['delete'] });
        if (!dryRun) await client.send(new DeleteFunctionCommand({ FunctionName: name }));
      }
    }
    logger.debug('deployment converged', { functions: functions.length, target: options.target, dryRun });
    return {
      target: options.target,
      ...(endpoint ? { endpoint } : {}),
      dryRun,
      functions,
      ...(runtime ? { runtime } : {}),
    };
  } catch (error) {
    await runtime?.stop();
    if (LambdaExecutorError.isInstance(error)) throw error;
    throw deployError(`deployment failed: ${String(error)}`, options.endpoint ?? options.target, error);
  } finally {
    if (ownsClient && !runtime) client.destroy();
  }
}

/** Names of functions marked (by environment) as deployed for `modelName`. */
async function deployedFunctionNames(client: LambdaClient, modelName: string): Promise<string[]> {
  const names: string[] = [];
  let marker: string | undefined;
  do {
    const page = await client.send(
      new ListFunctionsCommand({ ...(marker ? { Marker: marker } : {}), MaxItems: 50 }),
    );
    for (const fn of page.Functions ?? []) {
      if (fn.FunctionName && fn.Environment?.Variables?.[deploymentEnvVar] === modelName)
        names.push(fn.FunctionName);
    }
    marker = page.NextMarker;
  } while (marker);
  return names;
}

/**
 * Deletes every function of the plan's model (named in the plan or marked for the model), or with
 * `onlyPlanFunctions` exactly the functions the plan names (retiring one plan after a rollout).
 */
export async function undeployPlan(
  planInput: unknown,
  options: Omit<DeployOptions, 'graphs' | 'roleArn'> & { endpoint?: string; onlyPlanFunctions?: boolean },
): Promise<DeployResult> {
  const plan = parseWithSchema(deploymentPlanSchema, planInput, 'deployment plan', 'PLAN_INVALID');
  if (options.target === 'local' && !options.endpoint && !options.client) {
    throw deployError('undeploying from a local runtime needs its endpoint (--endpoint)', 'endpoint');
  }
  const { client, endpoint, ownsClient } = await resolveTarget({
    ...options,
    graphs: () => new Uint8Array(),
  });
  const dryRun = options.dryRun ?? false;
  try {
    const names = new Set(desiredFunctions(plan).map((fn) => fn.functionName));
    if (!options.onlyPlanFunctions)
      for (const name of await deployedFunctionNames(client, plan.model.name)) names.add(name);
    const functions: DeployAction[] = [];
    for (const name of names) {
      if (!(await describe(client, name))) continue;
      functions.push({ functionName: name, actions: ['delete'] });
      if (!dryRun) await client.send(new DeleteFunctionCommand({ FunctionName: name }));
    }
    return { target: options.target, ...(endpoint ? { endpoint } : {}), dryRun, functions };
  } finally {
    if (ownsClient) client.destroy();
  }
}
