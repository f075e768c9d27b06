import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  LambdaClient,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  UpdateAliasCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  waitUntilPublishedVersionActive,
} from '@aws-sdk/client-lambda';
import { SwitchyardError } from '@switchyard/core';
import { type LocalRuntime, localCodeBucket, startLocalRuntime } from '@switchyard/lambda-local';
import { loadedInitTimeoutMs } from '@switchyard/testing/local-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveAlias } from '../src/deploy/deployment-names.js';
import { LambdaExecutorError } from '../src/errors.js';
import { LambdaExecutor } from '../src/executor/lambda-executor.js';

// Reverses the bytes of the enveloped message; `sleep:N` / `fail` as the first bytes change behaviour.
const handlerSource = `
export const handler = async (event) => {
  const bytes = Buffer.from(event.data, 'base64');
  const text = bytes.toString('latin1');
  if (text.startsWith('fail')) throw new RangeError('asked to fail');
  if (text.startsWith('sleep:')) await new Promise((r) => setTimeout(r, Number(text.slice(6))));
  return { encoding: 'base64', data: Buffer.from(bytes).reverse().toString('base64') };
};
export const plain = async () => ({ ok: true });
`;

const bytesOf = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'latin1'));

describe('LambdaExecutor against the local runtime', () => {
  let runtime: LocalRuntime;
  let codeDir: string;
  const admin = (endpoint: string): LambdaClient =>
    new LambdaClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    });

  /** The SDK's waiters, polling every 50–200 ms. */
  const waiter = (client: LambdaClient) => ({ client, minDelay: 0.05, maxDelay: 0.2, maxWaitTime: 30 });

  /** Publishes `$LATEST` and points `live` at it, as deployPlan does; answers the version. */
  async function publishLive(client: LambdaClient, name: string): Promise<string> {
    const { Version } = await client.send(new PublishVersionCommand({ FunctionName: name }));
    await waitUntilPublishedVersionActive(waiter(client), { FunctionName: name, Qualifier: Version });
    await client.send(
      new CreateAliasCommand({ FunctionName: name, Name: liveAlias, FunctionVersion: Version }),
    );
    return Version as string;
  }

  beforeAll(async () => {
    codeDir = mkdtempSync(join(tmpdir(), 'switchyard-executor-code-'));
    writeFileSync(join(codeDir, 'index.mjs'), handlerSource);
    // Functions and versions stay Pending for 300 ms, as on AWS: setting up waits with the SDK's waiters.
    runtime = await startLocalRuntime({
      cpuEmulation: 'off',
      stateTransitionMs: 300,
      initTimeoutMs: loadedInitTimeoutMs,
    });
    const client = admin(runtime.endpoint);
    for (const [name, handler] of [
      ['reverse', 'index.handler'],
      ['single', 'index.handler'],
      ['plain', 'index.plain'],
    ] as const) {
      await client.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Runtime: 'nodejs22.x',
          Role: 'r',
          Handler: handler,
          MemorySize: 512,
          Timeout: 5,
          Code: { S3Bucket: localCodeBucket, S3Key: codeDir },
        }),
      );
      await waitUntilFunctionActiveV2(waiter(client), { FunctionName: name });
      await publishLive(client, name);
    }
    await client.send(
      new PutFunctionConcurrencyCommand({ FunctionName: 'single', ReservedConcurrentExecutions: 1 }),
    );
    client.destroy();
  });

  afterAll(async () => {
    await runtime?.stop();
    rmSync(codeDir, { recursive: true, force: true });
  });

  it('round-trips binary payloads and parses the REPORT line into billing', async () => {
    const executor = new LambdaExecutor({
      endpoint: runtime.endpoint,
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    });
    const payload = new Uint8Array(70_000).map((_, i) => (i * 7) % 256);
    const result = await executor.invoke({ functionName: 'reverse', payload });
    expect(result.payload).toEqual(payload.slice().reverse());
    expect(result.billing.memorySizeMB).toBe(512);
    expect(result.billing.billedDurationMs).toBeGreaterThanOrEqual(Math.ceil(result.billing.durationMs));
    expect(result.logTail).toContain('REPORT RequestId:');
    await executor.close();
  });

  it('retries throttled invokes with backoff until the reserved slot frees up', async () => {
    const executor = new LambdaExecutor({
      endpoint: runtime.endpoint,
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
      maxAttempts: 200,
      baseBackoffMs: 50,
      maxBackoffMs: 200,
    });
    // Warm the single instance first so the retries wait for 150-ms invokes, not a cold start.
    await executor.invoke({ functionName: 'single', payload: bytesOf('sleep:0') });
    const results = await Promise.all(
      [0, 1, 2].map(() => executor.invoke({ functionName: 'single', payload: bytesOf('sleep:150') })),
    );
    for (const result of results) expect(Buffer.from(result.payload).toString('latin1')).toBe('051:peels');
    await executor.close();
  });

  it('raises THROTTLED once attempts run out', async () => {
    const executor = new LambdaExecutor({
      endpoint: runtime.endpoint,
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
      maxAttempts: 1,
    });
    const outcomes = await Promise.allSettled(
      [0, 1].map(() => executor.invoke({ functionName: 'single', payload: bytesOf('sleep:300') })),
    );
    const failure = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(SwitchyardError.isInstance(failure.reason)).toBe(true);
    expect((failure.reason as LambdaExecutorError).code).toBe('THROTTLED');
    await executor.close();
  });

  it('turns handler errors into FUNCTION_ERROR with the log tail', async () => {
    const executor = new LambdaExecutor({
      endpoint: runtime.endpoint,
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    });
    const error = (await executor
      .invoke({ functionName: 'reverse', payload: bytesOf('fail') })
      .catch((e) => e)) as LambdaExecutorError;
    expect(error.code).toBe('FUNCTION_ERROR');
    expect(error.functionErrorType).toBe('RangeError');
    expect(error.logTail).toContain('REPORT RequestId:');
    await executor.close();
  });

  it('times out slow attempts and honours AbortSignal', async () => {
    const executor = new LambdaExecutor({
      endpoint: runtime.endpoint,
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
      maxAttempts: 1,
    });
    const timedOut = (await executor
      .invoke({ functionName: 'reverse', payload: bytesOf('sleep:1500'), timeoutMs: 200 })
      .catch((e) => e)) as LambdaExecutorError;
    expect(timedOut.code).toBe('TIMEOUT');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const aborted = (await executor
      .invoke({ functionName: 'reverse', payload: bytesOf('sleep:1500'), signal: controller.signal })
      .catch((e) => e)) as LambdaExecutorError;
    expect(aborted.code).toBe('ABORTED');
    await executor.close();
  });

  it("waits per attempt as long as the function's own Timeout + INIT allows, unless told a timeout", async () => {
    const credentials = { accessKeyId: 'l', secretAccessKey: 'l' };
    const executor = new LambdaExecutor({ endpoint: runtime.endpoint, credentials });
    // 'reverse' has Timeout 5 s: + Lambda's 10 s INIT limit + 5 s. A 60 s default would not follow it.
    expect(await executor.attemptTimeoutMs('reverse')).toBe(20_000);
    const client = admin(runtime.endpoint);
    await client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'plain', Timeout: 300 }));
    await waitUntilFunctionUpdatedV2(waiter(client), { FunctionName: 'plain' });
    client.destroy();
    // $LATEST has the new Timeout; live still points at the version published with 5 s.
    expect(await executor.attemptTimeoutMs('plain', '$LATEST')).toBe(315_000);
    expect(await executor.attemptTimeoutMs('plain')).toBe(20_000);
    // A function whose configuration cannot be read: Lambda's longest, 900 s + 10 s + 5 s.
    expect(await executor.attemptTimeoutMs('nobody')).toBe(915_000);
    const result = await executor.invoke({ functionName: 'reverse', payload: bytesOf('sleep:300 ab') });
    expect(Buffer.from(result.payload).toString('latin1')).toBe('ba 003:peels');
    await executor.close();
    const told = new LambdaExecutor({ endpoint: runtime.endpoint, credentials, timeoutMs: 1234 });
    expect(await told.attemptTimeoutMs('reverse')).toBe(1234);
    await told.close();
  });

  it('reports an answer that is not an envelope as WIRE_FORMAT_INVALID', async () => {
    const executor = new LambdaExecutor({
      endpoint: runtime.endpoint,
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    });
    const error = await executor.invoke({ functionName: 'plain', payload: bytesOf('x') }).catch((e) => e);
    expect(LambdaExecutorError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'WIRE_FORMAT_INVALID', location: 'plain' });
    await executor.close();
  });

  it('reports unknown functions as NOT_FOUND without retrying', async () => {
    const executor = new LambdaExecutor({
      endpoint: runtime.endpoint,
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    });
    const error = (await executor
      .invoke({ functionName: 'nobody', payload: bytesOf('x') })
      .catch((e) => e)) as LambdaExecutorError;
    expect(error.code).toBe('NOT_FOUND');
    await executor.close();
  });

  it('invokes the live alias by default, not $LATEST', async () => {
    const client = admin(runtime.endpoint);
    // $LATEST moves on to a handler that answers no envelope; live stays on the published version.
    await client.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'reverse', Handler: 'index.plain' }),
    );
    await waitUntilFunctionUpdatedV2(waiter(client), { FunctionName: 'reverse' });
    const executor = new LambdaExecutor({
      endpoint: runtime.endpoint,
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    });
    try {
      const result = await executor.invoke({ functionName: 'reverse', payload: bytesOf('abc') });
      expect(Buffer.from(result.payload).toString('latin1')).toBe('cba');
      const latest = await executor
        .invoke({ functionName: 'reverse', payload: bytesOf('abc'), qualifier: '$LATEST' })
        .catch((e: unknown) => e);
      expect(latest).toMatchObject({ code: 'WIRE_FORMAT_INVALID' });
    } finally {
      await client.send(
        new UpdateFunctionConfigurationCommand({ FunctionName: 'reverse', Handler: 'index.handler' }),
      );
      await waitUntilFunctionUpdatedV2(waiter(client), { FunctionName: 'reverse' });
      client.destroy();
      await executor.close();
    }
  });

  it('retries ResourceConflictException while the version live points at is still Pending', async () => {
    // Its own runtime whose versions stay Pending for 5 s: long enough that the first invoke below
    // reaches the new version while it is still Pending on a loaded machine (300 ms was not).
    const slow = await startLocalRuntime({
      cpuEmulation: 'off',
      stateTransitionMs: 5_000,
      initTimeoutMs: loadedInitTimeoutMs,
    });
    const client = admin(slow.endpoint);
    await client.send(
      new CreateFunctionCommand({
        FunctionName: 'single',
        Runtime: 'nodejs22.x',
        Role: 'r',
        Handler: 'index.handler',
        MemorySize: 512,
        Timeout: 5,
        Code: { S3Bucket: localCodeBucket, S3Key: codeDir },
      }),
    );
    await waitUntilFunctionActiveV2(waiter(client), { FunctionName: 'single' });
    await publishLive(client, 'single');
    // A new version is Pending for 5 s; live moves to it at once, so the first invokes answer 409.
    const { Version } = await client.send(new PublishVersionCommand({ FunctionName: 'single' }));
    const unchanged = (await client.send(new PublishVersionCommand({ FunctionName: 'single' }))).Version;
    expect(unchanged).toBe(Version);
    const before = await client.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'single', Description: 'second version' }),
    );
    expect(before.LastUpdateStatus).toBe('InProgress');
    await waitUntilFunctionUpdatedV2(waiter(client), { FunctionName: 'single' });
    const second = await client.send(new PublishVersionCommand({ FunctionName: 'single' }));
    expect(second.State).toBe('Pending');
    await client.send(
      new UpdateAliasCommand({ FunctionName: 'single', Name: liveAlias, FunctionVersion: second.Version }),
    );
    const strict = new LambdaExecutor({
      endpoint: slow.endpoint,
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
      maxAttempts: 1,
    });
    // Retries for well over the 5 s the version stays Pending.
    const patient = new LambdaExecutor({
      endpoint: slow.endpoint,
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
      maxAttempts: 100,
      baseBackoffMs: 100,
      maxBackoffMs: 300,
    });
    try {
      const conflict = await strict
        .invoke({ functionName: 'single', payload: bytesOf('x') })
        .catch((e: unknown) => e);
      expect(conflict).toMatchObject({ awsErrorName: 'ResourceConflictException', retryable: true });
      const result = await patient.invoke({ functionName: 'single', payload: bytesOf('xy') });
      expect(Buffer.from(result.payload).toString('latin1')).toBe('yx');
    } finally {
      client.destroy();
      await strict.close();
      await patient.close();
      await slow.stop();
    }
  }, 120_000);
});
