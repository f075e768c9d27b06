import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateFunctionCommand, LambdaClient, PutFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import { SwitchyardError } from '@switchyard/core';
import { type LocalRuntime, localCodeBucket, startLocalRuntime } from '@switchyard/lambda-local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

  beforeAll(async () => {
    codeDir = mkdtempSync(join(tmpdir(), 'switchyard-executor-code-'));
    writeFileSync(join(codeDir, 'index.mjs'), handlerSource);
    runtime = await startLocalRuntime({ cpuEmulation: 'off' });
    const client = admin(runtime.endpoint);
    for (const name of ['reverse', 'single']) {
      await client.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Runtime: 'nodejs22.x',
          Role: 'r',
          Handler: 'index.handler',
          MemorySize: 512,
          Timeout: 5,
          Code: { S3Bucket: localCodeBucket, S3Key: codeDir },
        }),
      );
    }
    await client.send(
      new CreateFunctionCommand({
        FunctionName: 'plain',
        Runtime: 'nodejs22.x',
        Role: 'r',
        Handler: 'index.plain',
        MemorySize: 512,
        Timeout: 5,
        Code: { S3Bucket: localCodeBucket, S3Key: codeDir },
      }),
    );
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
});
