import {
  LambdaClient,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  waitUntilPublishedVersionActive,
} from '@aws-sdk/client-lambda';
import type { LocalRuntime } from '../src/local-runtime.js';

/** A Lambda API client for `runtime` that makes one attempt per call (so tests see every error). */
export function lambdaClient(runtime: LocalRuntime): LambdaClient {
  return new LambdaClient({
    endpoint: runtime.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

/** The SDK's waiters, polling every 50–200 ms (their defaults start at 1 s, made for AWS). */
function waiter(client: LambdaClient) {
  return { client, minDelay: 0.05, maxDelay: 0.2, maxWaitTime: 30 };
}

/** Waits, as a deployment on AWS must, until a new function is Active. */
export async function waitForActive(client: LambdaClient, functionName: string): Promise<void> {
  await waitUntilFunctionActiveV2(waiter(client), { FunctionName: functionName });
}

/** Waits until the function's last update is Successful. */
export async function waitForUpdated(client: LambdaClient, functionName: string): Promise<void> {
  await waitUntilFunctionUpdatedV2(waiter(client), { FunctionName: functionName });
}

/** Waits until a published version is Active. */
export async function waitForVersion(
  client: LambdaClient,
  functionName: string,
  version: string,
): Promise<void> {
  await waitUntilPublishedVersionActive(waiter(client), { FunctionName: functionName, Qualifier: version });
}
