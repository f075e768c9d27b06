import { readFile } from 'node:fs/promises';
import {
  type DeploymentPlan,
  deploymentPlanSchema,
  type Logger,
  parseJson,
  parseWithSchema,
  SwitchyardError,
} from '@switchyard/core';
import { resolveRates } from '@switchyard/cost-model';
import { invocationUsd } from '@switchyard/cost-model/internal';
import { deployPlan, LambdaExecutor, undeployPlan } from '@switchyard/lambda-executor';
import { type LocalRuntime, startLocalRuntime } from '@switchyard/lambda-local';
import { buildExpertGraph, type MoeModel } from '@switchyard/model';
import {
  createDefaultPlan,
  createRemoteMoeStep,
  type RemoteMoeStep,
  type ScatterGatherEvent,
} from '@switchyard/scatter-gather';
import type { BillingTotals } from './server-metrics.js';

export interface RemoteExpertsOptions {
  target: 'local' | 'aws';
  /** Deployment plan JSON; default: `plan`, else `createDefaultPlan`. */
  planPath?: string;
  /** A plan object (used when `planPath` is not given). */
  plan?: DeploymentPlan;
  /** Lambda API endpoint (a running `switchyard lambda serve`); local without it starts one in process. */
  endpoint?: string;
  /** S3 API endpoint for plans with S3 transports when `endpoint` is given. */
  s3Endpoint?: string;
  /** Bucket for the S3 transports (local: created on first use). */
  bucket?: string;
  region?: string;
  /** Scatter-gather events (invocations, retries, hedges, layers), after billing has counted them. */
  onEvent?: (event: ScatterGatherEvent) => void;
  logger: Logger;
}

export interface RemoteExperts {
  moeStep: RemoteMoeStep;
  plan: DeploymentPlan;
  endpoint: string | undefined;
  target: 'local' | 'aws';
  /** Billed GB-s, $, invocations and retries of every MoE step made so far (all plans). */
  billing(): BillingTotals;
  /**
   * Deploys `plan` next to the current functions (nothing is deleted) and returns a MoE step over it;
   * `local` only (on `aws` plans are deployed with `switchyard deploy`).
   */
  deploy(plan: DeploymentPlan): Promise<RemoteMoeStep>;
  /** Deletes exactly the functions `plan` names (other plans' functions stay). */
  retire(plan: DeploymentPlan): Promise<void>;
  close(): Promise<void>;
}

const localCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

async function readPlan(path: string): Promise<DeploymentPlan> {
  return parseWithSchema(
    deploymentPlanSchema,
    parseJson(await readFile(path, 'utf8'), path, 'PLAN_INVALID'),
    path,
    'PLAN_INVALID',
  );
}

/**
 * Glue for `--target` (used by `switchyard generate` and `switchyard serve`): picks the plan,
 * deploys it on `local` (an in-process runtime unless `endpoint` is given), and returns a remote
 * MoE step. On `aws` the plan's functions must already be deployed (nothing billable is created
 * implicitly).
 */
export async function connectRemoteExperts(
  model: MoeModel,
  options: RemoteExpertsOptions,
): Promise<RemoteExperts> {
  const plan = options.planPath
    ? await readPlan(options.planPath)
    : (options.plan ?? createDefaultPlan(model.summary));
  const checkPlan = (candidate: DeploymentPlan, location: string) => {
    if (candidate.model.fingerprint !== model.summary.fingerprint) {
      throw new SwitchyardError({
        code: 'PLAN_INVALID',
        message: `the plan was made for model fingerprint ${candidate.model.fingerprint}, this checkpoint is ${model.summary.fingerprint}; plan again for this model`,
        location,
      });
    }
  };
  checkPlan(plan, options.planPath ?? 'default plan');
  const local = options.target === 'local';
  let runtime: LocalRuntime | undefined;
  let endpoint = options.endpoint;
  let s3Endpoint = options.s3Endpoint;
  if (local && !endpoint) {
    // Lambda's 10 s INIT limit is about AWS hardware; here many expert functions cold-start at once
    // on a laptop's cores, so the embedded runtime gets more room.
    runtime = await startLocalRuntime({ logger: options.logger, initTimeoutMs: 120_000 });
    endpoint = runtime.endpoint;
    s3Endpoint = runtime.s3Endpoint;
  }
  const credentials = local ? localCredentials : undefined;
  const region = options.region ?? 'us-east-1';
  const totals: BillingTotals = { billedGbSeconds: 0, costUsd: 0, invocations: 0, retries: 0 };
  let executor: LambdaExecutor | undefined;
  const deployTarget = {
    target: 'local' as const,
    ...(endpoint ? { endpoint } : {}),
    logger: options.logger,
  };
  const stepFor = (active: DeploymentPlan): RemoteMoeStep => {
    const memoryByFunction = new Map<string, number>();
    for (const layer of active.layers)
      for (const fn of layer.functions)
        for (const name of fn.functionNames) memoryByFunction.set(name, fn.memoryMB);
    const rates = resolveRates({ region: active.region, arch: active.arch });
    const usesS3 = active.layers.some((layer) => layer.method !== 'direct');
    return createRemoteMoeStep({
      plan: active,
      executor: executor!,
      logger: options.logger,
      onEvent: (event) => {
        if (event.type === 'retry') totals.retries += 1;
        if (event.type === 'invoke' && event.billedDurationMs !== undefined) {
          const memoryMB = memoryByFunction.get(event.functionName) ?? 128;
          totals.invocations += 1;
          totals.billedGbSeconds += (memoryMB / 1024) * (event.billedDurationMs / 1000);
          totals.costUsd += invocationUsd(memoryMB, event.billedDurationMs, rates);
        }
        options.onEvent?.(event);
      },
      ...(usesS3
        ? {
            s3: {
              bucket: options.bucket ?? 'switchyard-scatter-gather',
              createBucket: local,
              region,
              ...(s3Endpoint ? { endpoint: s3Endpoint } : {}),
              ...(credentials ? { credentials } : {}),
            },
          }
        : {}),
    });
  };
  try {
    if (local) {
      await deployPlan(plan, {
        ...deployTarget,
        graphs: (layer, expert) => buildExpertGraph(model, layer, expert),
      });
    }
    // Transient errors are retried by scatter-gather on another replica; one SDK-level retry is enough.
    executor = new LambdaExecutor({
      ...(endpoint ? { endpoint } : {}),
      region,
      maxAttempts: 2,
      ...(credentials ? { credentials } : {}),
      logger: options.logger,
    });
    const owned = executor;
    return {
      moeStep: stepFor(plan),
      plan,
      endpoint,
      target: options.target,
      billing: () => ({ ...totals }),
      async deploy(next) {
        checkPlan(next, 'new plan');
        if (!local) {
          throw new SwitchyardError({
            code: 'INVALID_CONFIG',
            message:
              'rolling out a new plan is supported on the local target only; deploy it with `switchyard deploy`',
          });
        }
        await deployPlan(next, {
          ...deployTarget,
          prune: false,
          graphs: (layer, expert) => buildExpertGraph(model, layer, expert),
        });
        return stepFor(next);
      },
      async retire(old) {
        if (!local) return;
        await undeployPlan(old, { ...deployTarget, endpoint: endpoint!, onlyPlanFunctions: true });
      },
      close: async () => {
        await owned.close();
        await runtime?.stop();
      },
    };
  } catch (error) {
    await executor?.close();
    await runtime?.stop();
    throw error;
  }
}
