import { ListFunctionsCommand, ListTagsCommand } from '@aws-sdk/client-lambda';
import type { Logger, RandomSource } from '@switchyard/core';
import { type LocalRuntime, startLocalRuntime } from '@switchyard/lambda-local';
import type { ControlPlaneOptions, DeploymentClients, ResolvedUndeployOptions } from '../options.js';
import { type AwsClients, createAwsClients } from './aws-clients.js';
import { ControlPlane } from './control-plane.js';
import { type DeploymentContext, read } from './deployment-context.js';
import { deploymentTagKey } from './deployment-names.js';
import { deploymentEnvVar } from './function-settings.js';

/** The APIs a deployment talks to. */
export interface DeploymentTarget {
  clients: AwsClients;
  /** The Lambda endpoint (a runtime started here, or the one given). */
  endpoint: string | undefined;
  /** A runtime started for this deployment (`target: 'local'` without an endpoint). */
  runtime: LocalRuntime | undefined;
}

/**
 * The clients for a deployment: the caller's, or ones for `endpoint` (AWS without it). A local
 * deployment without an endpoint (and not a dry run) starts an embedded runtime in process; its S3
 * API is then the deployment's S3.
 */
export async function resolveTarget(
  options: Pick<
    ResolvedUndeployOptions,
    'target' | 'endpoint' | 's3Endpoint' | 'region' | 'dryRun' | 'credentials'
  >,
  given: DeploymentClients & { logger?: Logger },
): Promise<DeploymentTarget> {
  let runtime: LocalRuntime | undefined;
  let endpoint = options.endpoint;
  let s3Endpoint = options.s3Endpoint;
  if (options.target === 'local' && !endpoint && !given.lambda && !options.dryRun) {
    runtime = await startLocalRuntime({ logger: given.logger });
    endpoint = runtime.endpoint;
    s3Endpoint ??= runtime.s3Endpoint;
  }
  const clients = createAwsClients(
    { ...options, ...(s3Endpoint ? { s3Endpoint } : {}) },
    { ...given, ...(endpoint ? { lambdaEndpoint: endpoint } : {}) },
  );
  return { clients, endpoint, runtime };
}

/** What deploy and undeploy are given besides their data: clients, randomness, a logger. */
export interface DeploymentExtras {
  client?: import('@aws-sdk/client-lambda').LambdaClient;
  clients?: DeploymentClients;
  random?: RandomSource;
  logger: Logger;
}

/** The target of a deployment of `model` and the context every step of it shares. */
export async function openDeployment(
  options: Parameters<typeof resolveTarget>[0] & { controlPlane: ControlPlaneOptions },
  model: string,
  extras: DeploymentExtras,
): Promise<DeploymentTarget & { context: DeploymentContext }> {
  const { client, clients: givenClients, random, logger } = extras;
  const target = await resolveTarget(options, {
    ...givenClients,
    ...(client ? { lambda: client } : {}),
    logger,
  });
  const context: DeploymentContext = {
    clients: target.clients,
    controlPlane: new ControlPlane(options.controlPlane, { random, logger }),
    model,
    region: options.region,
    dryRun: options.dryRun,
    logger,
  };
  return { ...target, context };
}

/**
 * The functions of this deployment in the region: ListFunctions narrowed by the
 * `SWITCHYARD_DEPLOYMENT` variable every deployed function carries (no extra call per unrelated
 * function), then decided by the function's `switchyard:deployment` tag (ListTags). A marked
 * function without the tag was deployed before tags and counts as this deployment's.
 */
export async function deploymentFunctions(context: DeploymentContext): Promise<string[]> {
  const { lambda } = context.clients;
  const names: string[] = [];
  let marker: string | undefined;
  do {
    const page = await read(context, 'ListFunctions', () =>
      lambda.send(new ListFunctionsCommand({ Marker: marker, MaxItems: 50 })),
    );
    for (const fn of page.Functions ?? []) {
      if (!fn.FunctionName || fn.Environment?.Variables?.[deploymentEnvVar] !== context.model) continue;
      const resource = fn.FunctionArn;
      const tags = resource
        ? (
            await read(context, `ListTags ${fn.FunctionName}`, () =>
              lambda.send(new ListTagsCommand({ Resource: resource })),
            )
          ).Tags
        : undefined;
      const tag = tags?.[deploymentTagKey];
      if (tag === undefined || tag === context.model) names.push(fn.FunctionName);
    }
    marker = page.NextMarker;
  } while (marker);
  return names;
}
