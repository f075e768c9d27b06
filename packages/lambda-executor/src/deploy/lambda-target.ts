import {
  GetFunctionCommand,
  type GetFunctionCommandOutput,
  LambdaClient,
  ListFunctionsCommand,
} from '@aws-sdk/client-lambda';
import type { Logger } from '@switchyard/core';
import { type LocalRuntime, startLocalRuntime } from '@switchyard/lambda-local';
import { deploymentError } from '../errors.js';
import type { ResolvedUndeployOptions } from '../options.js';
import { deploymentEnvVar } from './function-settings.js';

/** The Lambda API a deployment talks to. */
export interface LambdaTarget {
  client: LambdaClient;
  endpoint: string | undefined;
  /** A runtime started for this deployment (`target: 'local'` without an endpoint). */
  runtime: LocalRuntime | undefined;
  /** Whether the client was made here (and is destroyed when done). */
  ownsClient: boolean;
}

/**
 * The client for a deployment: the caller's, or one for `endpoint` (AWS without it). A local
 * deployment without an endpoint (and not a dry run) starts an embedded runtime in process.
 */
export async function resolveTarget(
  options: Pick<ResolvedUndeployOptions, 'target' | 'endpoint' | 'region' | 'dryRun' | 'credentials'> & {
    client?: LambdaClient;
    logger?: Logger;
  },
): Promise<LambdaTarget> {
  let runtime: LocalRuntime | undefined;
  let endpoint = options.endpoint;
  if (options.target === 'local' && !endpoint && !options.client && !options.dryRun) {
    runtime = await startLocalRuntime({ logger: options.logger });
    endpoint = runtime.endpoint;
  }
  if (options.client) return { client: options.client, endpoint, runtime: undefined, ownsClient: false };
  const credentials =
    options.credentials ??
    (options.target === 'local' ? { accessKeyId: 'local', secretAccessKey: 'local' } : undefined);
  // The SDK's config merges over its defaults, so an explicit `undefined` would erase one: spread.
  const client = new LambdaClient({
    region: options.region,
    ...(endpoint ? { endpoint } : {}),
    ...(credentials ? { credentials } : {}),
  });
  return { client, endpoint, runtime, ownsClient: true };
}

/** GetFunction, or undefined for a function that does not exist. */
export async function describeFunction(
  client: LambdaClient,
  name: string,
): Promise<GetFunctionCommandOutput | undefined> {
  try {
    return await client.send(new GetFunctionCommand({ FunctionName: name }));
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw deploymentError(`GetFunction failed: ${String(error)}`, name, error);
  }
}

/** Names of functions marked (by environment) as deployed for `modelName`. */
export async function deployedFunctionNames(client: LambdaClient, modelName: string): Promise<string[]> {
  const names: string[] = [];
  let marker: string | undefined;
  do {
    const page = await client.send(new ListFunctionsCommand({ Marker: marker, MaxItems: 50 }));
    for (const fn of page.Functions ?? []) {
      if (fn.FunctionName && fn.Environment?.Variables?.[deploymentEnvVar] === modelName)
        names.push(fn.FunctionName);
    }
    marker = page.NextMarker;
  } while (marker);
  return names;
}
