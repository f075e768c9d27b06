import { readFile } from 'node:fs/promises';
import {
  type DeploymentPlan,
  deploymentPlanSchema,
  type Logger,
  noopLogger,
  parseJson,
  parseWithSchema,
} from '@switchyard/core';
import { RunningBill, resolveRates } from '@switchyard/cost-model';
import {
  deployPlan,
  LambdaExecutor,
  type LiveRoute,
  routeLiveAlias,
  undeployPlan,
} from '@switchyard/lambda-executor';
import { type LocalRuntime, startLocalRuntime } from '@switchyard/lambda-local';
import { buildExpertGraph, type MoeModel } from '@switchyard/model';
import {
  createDefaultPlan,
  createRemoteMoeStep,
  type RemoteMoeStep,
  type ScatterGatherEvent,
} from '@switchyard/scatter-gather';
import { ServingError } from './errors.js';
import { type RemoteExpertsOptions, remoteExpertsOptionsSchema } from './options.js';
import type { BillingTotals } from './status.js';

export interface RemoteExpertsDependencies {
  logger?: Logger;
  /** Scatter-gather events (invocations, retries, hedges, layers), after billing has counted them. */
  onEvent?: (event: ScatterGatherEvent) => void;
}

/** A plan deployed next to the serving one, its kept functions' new versions not yet live. */
export interface StagedPlan {
  moeStep: RemoteMoeStep;
  /** Kept functions whose `live` still points at the serving version (from) while the new one (to) waits. */
  shifts: LiveRoute[];
}

export interface RemoteExperts {
  moeStep: RemoteMoeStep;
  plan: DeploymentPlan;
  endpoint: string | undefined;
  target: 'local' | 'aws';
  /** Billed GB-s, $, invocations and retries of every MoE step made so far (all plans). */
  billing(): BillingTotals;
  /**
   * Deploys `plan` next to the serving functions and returns a MoE step over it: its new functions are
   * created (live on their first version); a function it keeps gets its new configuration published
   * as a version while `live` stays on the serving one (`shifts`; `route` moves it); nothing is
   * deleted. `local` only (plans for AWS are deployed before serving).
   */
  deploy(plan: DeploymentPlan): Promise<StagedPlan>;
  /** Routes `weight` of each shifted function's `live` invocations to its new version (1: all of it). */
  route(shifts: readonly LiveRoute[], weight: number): Promise<void>;
  /**
   * Deletes exactly the functions `plan` names (a rollout's removed ones, once no step in progress
   * uses them; other plans' functions and anything shared stay).
   */
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
  optionsInput: RemoteExpertsOptions,
  { logger = noopLogger, onEvent }: RemoteExpertsDependencies = {},
): Promise<RemoteExperts> {
  const options = parseWithSchema(
    remoteExpertsOptionsSchema,
    optionsInput,
    'remote experts options',
    'INVALID_CONFIG',
  );
  const plan = options.planPath
    ? await readPlan(options.planPath)
    : (options.plan ?? createDefaultPlan(model.summary));
  const checkPlan = (candidate: DeploymentPlan, location: string) => {
    if (candidate.model.fingerprint !== model.summary.fingerprint) {
      throw new ServingError({
        code: 'PLAN_INVALID',
        message: `the plan was made for model fingerprint ${candidate.model.fingerprint}, this checkpoint is ${model.summary.fingerprint}; plan again for this model`,
        location,
      });
    }
    // One executor (one region) serves every plan, and the bill is priced at the first plan's rates.
    if (candidate.region !== plan.region || candidate.arch !== plan.arch) {
      throw new ServingError({
        code: 'PLAN_INVALID',
        message: `the plan is for ${candidate.region} (${candidate.arch}) but the serving plan runs in ${plan.region} (${plan.arch}); a new plan must keep the region and architecture`,
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
    runtime = await startLocalRuntime({ logger, initTimeoutMs: 120_000 });
    endpoint = runtime.endpoint;
    s3Endpoint = runtime.s3Endpoint;
  }
  const credentials = local ? localCredentials : undefined;
  const { region } = options;
  const bill = new RunningBill(resolveRates({ region: plan.region, arch: plan.arch }));
  let retries = 0;
  let failedInvocations = 0;
  let executor: LambdaExecutor | undefined;
  const deployTarget = { target: 'local' as const, endpoint, logger };
  const stepFor = (active: DeploymentPlan): RemoteMoeStep => {
    const memoryByFunction = new Map<string, number>();
    for (const layer of active.layers)
      for (const fn of layer.functions)
        for (const name of fn.functionNames) memoryByFunction.set(name, fn.memoryMB);
    const usesS3 = active.layers.some((layer) => layer.method !== 'direct');
    return createRemoteMoeStep({
      plan: active,
      executor: executor!,
      logger,
      onEvent: (event) => {
        if (event.type === 'retry') retries += 1;
        if (event.type === 'invoke' && event.outcome === 'failed') failedInvocations += 1;
        // Every attempt that ran carries its REPORT line's billed duration (hedge losers and function
        // errors are paid too).
        if (event.type === 'invoke' && event.billedDurationMs !== undefined) {
          bill.add({
            memorySizeMB: memoryByFunction.get(event.functionName) ?? 128,
            billedDurationMs: event.billedDurationMs,
          });
        }
        onEvent?.(event);
      },
      s3: usesS3
        ? { bucket: options.bucket, createBucket: local, region, endpoint: s3Endpoint, credentials }
        : undefined,
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
    executor = new LambdaExecutor({ endpoint, region, maxAttempts: 2, credentials, logger });
    const owned = executor;
    return {
      moeStep: stepFor(plan),
      plan,
      endpoint,
      target: options.target,
      billing: () => {
        const totals = bill.totals();
        return {
          billedGbSeconds: totals.gbSeconds,
          costUsd: totals.totalUsd,
          invocations: totals.invocations,
          retries,
          failedInvocations,
        };
      },
      async deploy(next) {
        checkPlan(next, 'new plan');
        if (!local) {
          throw new ServingError({
            code: 'INVALID_CONFIG',
            message:
              'rolling out a new plan is supported on the local target only; on AWS deploy the plan before serving it',
          });
        }
        const deployed = await deployPlan(next, {
          ...deployTarget,
          prune: false,
          stageLive: true,
          graphs: (layer, expert) => buildExpertGraph(model, layer, expert),
        });
        const shifts = deployed.functions.flatMap((fn) =>
          fn.version !== undefined && fn.liveVersion !== undefined && fn.version !== fn.liveVersion
            ? [{ functionName: fn.functionName, from: fn.liveVersion, to: fn.version }]
            : [],
        );
        return { moeStep: stepFor(next), shifts };
      },
      async route(shifts, weight) {
        await Promise.all(shifts.map((shift) => routeLiveAlias(owned.client, shift, weight, logger)));
      },
      async retire(old) {
        if (!local) return;
        await undeployPlan(old, { ...deployTarget, onlyPlanFunctions: true });
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
