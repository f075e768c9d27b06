import { readFile } from 'node:fs/promises';
import {
  type DeploymentPlan,
  deploymentPlanSchema,
  type Logger,
  parseJson,
  parseWithSchema,
  SwitchyardError,
} from '@switchyard/core';
import {
  deployPlan,
  LambdaExecutor,
  type LocalRuntime,
  startLocalRuntime,
} from '@switchyard/lambda-executor';
import { buildExpertGraph, type MoeModel } from '@switchyard/model';
import { createDefaultPlan, createRemoteMoeStep, type RemoteMoeStep } from '@switchyard/scatter-gather';

export interface RemoteExpertsOptions {
  target: 'local' | 'aws';
  /** Deployment plan JSON; default: one function per expert (`createDefaultPlan`). */
  planPath?: string;
  /** Lambda API endpoint (a running `switchyard lambda serve`); local without it starts one in process. */
  endpoint?: string;
  /** S3 API endpoint for plans with S3 transports when `endpoint` is given. */
  s3Endpoint?: string;
  /** Bucket for the S3 transports (local: created on first use). */
  bucket?: string;
  region?: string;
  logger: Logger;
}

export interface RemoteExperts {
  moeStep: RemoteMoeStep;
  plan: DeploymentPlan;
  endpoint: string | undefined;
  close(): Promise<void>;
}

const localCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * Glue for `--target`: picks the plan, deploys it on `local` (an in-process runtime unless
 * `endpoint` is given), and returns a remote MoE step. On `aws` the plan's functions must already
 * be deployed (generation never creates billable resources implicitly).
 */
export async function connectRemoteExperts(
  model: MoeModel,
  options: RemoteExpertsOptions,
): Promise<RemoteExperts> {
  const plan = options.planPath
    ? parseWithSchema(
        deploymentPlanSchema,
        parseJson(await readFile(options.planPath, 'utf8'), options.planPath, 'PLAN_INVALID'),
        options.planPath,
        'PLAN_INVALID',
      )
    : createDefaultPlan(model.summary);
  if (plan.model.fingerprint !== model.summary.fingerprint) {
    throw new SwitchyardError({
      code: 'PLAN_INVALID',
      message: `the plan was made for model fingerprint ${plan.model.fingerprint}, this checkpoint is ${model.summary.fingerprint}; plan again for this model`,
      location: options.planPath ?? 'default plan',
    });
  }
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
  try {
    if (local) {
      await deployPlan(plan, {
        target: 'local',
        ...(endpoint ? { endpoint } : {}),
        graphs: (layer, expert) => buildExpertGraph(model, layer, expert),
        logger: options.logger,
      });
    }
    // Transient errors are retried by scatter-gather on another replica; one SDK-level retry is enough.
    const executor = new LambdaExecutor({
      ...(endpoint ? { endpoint } : {}),
      region,
      maxAttempts: 2,
      ...(credentials ? { credentials } : {}),
      logger: options.logger,
    });
    const usesS3 = plan.layers.some((layer) => layer.method !== 'direct');
    const moeStep = createRemoteMoeStep({
      plan,
      executor,
      logger: options.logger,
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
    return {
      moeStep,
      plan,
      endpoint,
      close: async () => {
        await executor.close();
        await runtime?.stop();
      },
    };
  } catch (error) {
    await runtime?.stop();
    throw error;
  }
}
