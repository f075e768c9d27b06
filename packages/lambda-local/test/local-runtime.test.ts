import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  InvokeCommand,
  type LambdaClient,
  ListFunctionsCommand,
  PutFunctionConcurrencyCommand,
  ResourceConflictException,
  ResourceNotFoundException,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { lambdaLimits, parseReportLine, vcpusForMemory } from '@switchyard/core';
import { loadedInitTimeoutMs } from '@switchyard/testing/local-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localCodeBucket } from '../src/code-store.js';
import type { FunctionRunner } from '../src/instance-environment.js';
import { type LocalRuntime, startLocalRuntime } from '../src/local-runtime.js';
import { locateRic } from '../src/ric.js';
import { writeZip } from '../src/zip.js';
import { lambdaClient, waitForActive, waitForUpdated } from './lambda-client.js';

const handlerSource = `
export const handler = async (event) => {
  if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  if (event.fail) throw new TypeError('boom: ' + event.fail);
  if (event.exit) process.exit(3);
  if (event.allocateMB) {
    const blocks = [];
    for (let i = 0; i < event.allocateMB; i++) { blocks.push(Buffer.alloc(1024 * 1024, 1)); }
    return { allocated: blocks.length };
  }
  if (event.spinMs) { const end = performance.now() + event.spinMs; while (performance.now() < end) {} }
  if (event.responseMB) return 'x'.repeat(event.responseMB * 1024 * 1024);
  console.log('handled', JSON.stringify(event));
  return { echo: event, memory: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, threads: process.env.SWITCHYARD_VCPU_THREADS };
};
`;

const decoder = new TextDecoder();
const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

/** Create, cold and warm invokes, memory update (new instance), reserved-concurrency 429, delete. */
async function keyFlow(lambda: LambdaClient): Promise<void> {
  const zip = writeZip([{ path: 'index.mjs', data: new TextEncoder().encode(handlerSource) }]);
  const created = await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'echo',
      Runtime: 'nodejs22.x',
      Role: 'arn:aws:iam::000000000000:role/local',
      Handler: 'index.handler',
      Code: { ZipFile: zip },
      MemorySize: 256,
      Timeout: 10,
    }),
  );
  expect(created.FunctionName).toBe('echo');
  expect(created.MemorySize).toBe(256);
  expect(created.State).toBe('Pending');
  await waitForActive(lambda, 'echo');
  await expect(
    lambda.send(
      new CreateFunctionCommand({
        Runtime: 'nodejs22.x',
        FunctionName: 'echo',
        Role: 'r',
        Handler: 'index.handler',
        Code: { ZipFile: zip },
      }),
    ),
  ).rejects.toBeInstanceOf(ResourceConflictException);

  const first = await lambda.send(
    new InvokeCommand({
      FunctionName: 'echo',
      Payload: encode({ hello: 'world', spinMs: 5 }),
      LogType: 'Tail',
    }),
  );
  expect(first.FunctionError).toBeUndefined();
  const firstBody = JSON.parse(decoder.decode(first.Payload)) as { echo: unknown; memory: string };
  expect(firstBody.echo).toEqual({ hello: 'world', spinMs: 5 });
  expect(firstBody.memory).toBe('256');
  const firstLog = Buffer.from(first.LogResult ?? '', 'base64').toString('utf8');
  expect(firstLog).toContain('handled');
  const firstReport = parseReportLine(firstLog);
  expect(firstReport?.memorySizeMB).toBe(256);
  expect(firstReport?.initDurationMs).toBeGreaterThan(0);
  // 256 MB is 0.145 vCPU: 5 ms of CPU is reported as about 5 / 0.145 ≈ 35 ms.
  expect(firstReport?.durationMs).toBeGreaterThan(5 / vcpusForMemory(256) - 1);
  expect(firstReport?.billedDurationMs).toBe(
    Math.ceil((firstReport?.durationMs ?? 0) + (firstReport?.initDurationMs ?? 0)),
  );

  const warm = await lambda.send(
    new InvokeCommand({ FunctionName: 'echo', Payload: encode({ spinMs: 5 }), LogType: 'Tail' }),
  );
  const warmReport = parseReportLine(Buffer.from(warm.LogResult ?? '', 'base64').toString('utf8'));
  expect(warmReport?.initDurationMs).toBeUndefined();

  const updating = await lambda.send(
    new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', MemorySize: 3538 }),
  );
  expect(updating.LastUpdateStatus).toBe('InProgress');
  await waitForUpdated(lambda, 'echo');
  const second = await lambda.send(
    new InvokeCommand({ FunctionName: 'echo', Payload: encode({ spinMs: 5 }), LogType: 'Tail' }),
  );
  const secondBody = JSON.parse(decoder.decode(second.Payload)) as { memory: string; threads: string };
  expect(secondBody.memory).toBe('3538');
  const secondReport = parseReportLine(Buffer.from(second.LogResult ?? '', 'base64').toString('utf8'));
  expect(secondReport?.memorySizeMB).toBe(3538);
  // New configuration → new instance → a cold start again; at 2 vCPUs there is no duration scaling.
  expect(secondReport?.initDurationMs).toBeGreaterThan(0);
  expect(secondReport?.durationMs).toBeLessThan(warmReport?.durationMs ?? 0);
  expect(Number(secondBody.threads)).toBeGreaterThanOrEqual(1);

  await lambda.send(
    new PutFunctionConcurrencyCommand({ FunctionName: 'echo', ReservedConcurrentExecutions: 1 }),
  );
  const described = await lambda.send(new GetFunctionCommand({ FunctionName: 'echo' }));
  expect(described.Concurrency?.ReservedConcurrentExecutions).toBe(1);
  const results = await Promise.allSettled([
    lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: encode({ sleepMs: 400 }) })),
    lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: encode({ sleepMs: 400 }) })),
  ]);
  const rejected = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
  expect(rejected).toHaveLength(1);
  const throttle = rejected[0]?.reason as {
    name: string;
    $metadata: { httpStatusCode: number };
    Reason?: string;
  };
  expect(throttle.name).toBe('TooManyRequestsException');
  expect(throttle.$metadata.httpStatusCode).toBe(429);
  expect(throttle.Reason).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');

  const listed = await lambda.send(new ListFunctionsCommand({}));
  expect(listed.Functions?.map((f) => f.FunctionName)).toContain('echo');
  await lambda.send(new DeleteFunctionCommand({ FunctionName: 'echo' }));
  await expect(lambda.send(new GetFunctionCommand({ FunctionName: 'echo' }))).rejects.toBeInstanceOf(
    ResourceNotFoundException,
  );
}

/** Handler errors, crashes, INIT failures and oversized responses, then a healthy invoke. */
async function errorFlow(lambda: LambdaClient, codeDir: string): Promise<void> {
  await lambda.send(
    new CreateFunctionCommand({
      Runtime: 'nodejs22.x',
      FunctionName: 'crashy',
      Role: 'r',
      Handler: 'index.handler',
      MemorySize: 2048,
      Code: { S3Bucket: localCodeBucket, S3Key: codeDir },
    }),
  );
  await waitForActive(lambda, 'crashy');
  const failed = await lambda.send(
    new InvokeCommand({ FunctionName: 'crashy', Payload: encode({ fail: 'bad input' }), LogType: 'Tail' }),
  );
  expect(failed.FunctionError).toBe('Unhandled');
  const body = JSON.parse(decoder.decode(failed.Payload)) as { errorType: string; errorMessage: string };
  expect(body).toMatchObject({ errorType: 'TypeError', errorMessage: 'boom: bad input' });
  const log = Buffer.from(failed.LogResult ?? '', 'base64').toString('utf8');
  expect(log).toContain('Invoke Error');
  expect(parseReportLine(log)).toBeDefined();

  const exited = await lambda.send(
    new InvokeCommand({ FunctionName: 'crashy', Payload: encode({ exit: true }), LogType: 'Tail' }),
  );
  expect(exited.FunctionError).toBe('Unhandled');
  expect(JSON.parse(decoder.decode(exited.Payload))).toMatchObject({ errorType: 'Runtime.ExitError' });

  // A response over 6 MB is refused (the Runtime API answers the runtime 413) and reported as such.
  const oversized = await lambda.send(
    new InvokeCommand({ FunctionName: 'crashy', Payload: encode({ responseMB: 7 }), LogType: 'Tail' }),
  );
  expect(oversized.FunctionError).toBe('Unhandled');
  expect(JSON.parse(decoder.decode(oversized.Payload))).toMatchObject({
    errorType: 'Function.ResponseSizeTooLarge',
  });

  const recovered = await lambda.send(
    new InvokeCommand({ FunctionName: 'crashy', Payload: encode({ ok: 1 }) }),
  );
  expect(recovered.FunctionError).toBeUndefined();
  await lambda.send(new DeleteFunctionCommand({ FunctionName: 'crashy' }));

  // INIT failures: a module that is not there, an export that is not there.
  for (const [handler, errorType] of [
    ['nowhere.handler', 'Runtime.ImportModuleError'],
    ['index.nothing', 'Runtime.HandlerNotFound'],
  ] as const) {
    await lambda.send(
      new CreateFunctionCommand({
        Runtime: 'nodejs22.x',
        FunctionName: 'broken',
        Role: 'r',
        Handler: handler,
        Code: { S3Bucket: localCodeBucket, S3Key: codeDir },
      }),
    );
    await waitForActive(lambda, 'broken');
    const broken = await lambda.send(
      new InvokeCommand({ FunctionName: 'broken', Payload: encode({}), LogType: 'Tail' }),
    );
    expect(broken.FunctionError).toBe('Unhandled');
    expect(JSON.parse(decoder.decode(broken.Payload))).toMatchObject({ errorType });
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'broken' }));
  }
}

/** A directory holding `index.mjs`. */
function codeDirectory(prefix: string): string {
  const codeDir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(codeDir, 'index.mjs'), handlerSource);
  return codeDir;
}

const runners: FunctionRunner[] = ['ric', 'own'];

describe.each(runners)(
  'local Lambda runtime with runner %s, driven by the real @aws-sdk/client-lambda',
  (runner) => {
    let runtime: LocalRuntime;
    let lambda: LambdaClient;
    let codeDir: string;

    beforeAll(async () => {
      codeDir = codeDirectory(`switchyard-test-code-${runner}-`);
      // New functions stay Pending and updates InProgress for a while, as on AWS: the flows wait.
      runtime = await startLocalRuntime({
        accountConcurrency: 8,
        idleTimeoutMs: 60_000,
        initTimeoutMs: loadedInitTimeoutMs,
        runner,
        s3: false,
        stateTransitionMs: 100,
      });
      lambda = lambdaClient(runtime);
    });

    afterAll(async () => {
      lambda?.destroy();
      await runtime?.stop();
      rmSync(codeDir, { recursive: true, force: true });
    });

    it('runs instances under the runner asked for (ric only where its native addon is built)', () => {
      if (runner === 'own') {
        expect(runtime.runner).toBe('own');
        return;
      }
      const ric = locateRic();
      expect(runtime.runner).toBe(ric.available ? 'ric' : 'own');
      // CI installs what the addon's build needs and sets this, so a silent fallback fails there.
      if (process.env.SWITCHYARD_REQUIRE_RIC === '1') expect(ric).toMatchObject({ available: true });
    });

    it('creates, invokes, updates memory, invokes, throttles at the reserved limit and deletes', () =>
      keyFlow(lambda));

    it('reports handler errors, crashes, oversized responses and INIT failures with X-Amz-Function-Error and the log tail', () =>
      errorFlow(lambda, codeDir));

    it('kills a function that exceeds its memory and reports Runtime.OutOfMemory', async () => {
      await lambda.send(
        new CreateFunctionCommand({
          Runtime: 'nodejs22.x',
          FunctionName: 'hungry',
          Role: 'r',
          Handler: 'index.handler',
          MemorySize: 256,
          Timeout: 60,
          Code: { S3Bucket: localCodeBucket, S3Key: codeDir },
        }),
      );
      await waitForActive(lambda, 'hungry');
      const result = await lambda.send(
        new InvokeCommand({ FunctionName: 'hungry', Payload: encode({ allocateMB: 600 }), LogType: 'Tail' }),
      );
      expect(result.FunctionError).toBe('Unhandled');
      expect(JSON.parse(decoder.decode(result.Payload))).toMatchObject({ errorType: 'Runtime.OutOfMemory' });
      const report = parseReportLine(Buffer.from(result.LogResult ?? '', 'base64').toString('utf8'));
      expect(report?.maxMemoryUsedMB).toBe(256);
      await lambda.send(new DeleteFunctionCommand({ FunctionName: 'hungry' }));
    });

    it('times out a handler that runs past its Timeout', async () => {
      await lambda.send(
        new CreateFunctionCommand({
          Runtime: 'nodejs22.x',
          FunctionName: 'slow',
          Role: 'r',
          Handler: 'index.handler',
          Timeout: 1,
          Code: { S3Bucket: localCodeBucket, S3Key: codeDir },
        }),
      );
      await waitForActive(lambda, 'slow');
      const result = await lambda.send(
        new InvokeCommand({ FunctionName: 'slow', Payload: encode({ sleepMs: 5000 }) }),
      );
      expect(JSON.parse(decoder.decode(result.Payload))).toMatchObject({ errorType: 'Sandbox.Timedout' });
      await lambda.send(new DeleteFunctionCommand({ FunctionName: 'slow' }));
    });
  },
);

describe('local runtime API checks and S3 API (no function process involved)', () => {
  let runtime: LocalRuntime;
  let lambda: LambdaClient;
  let codeDir: string;

  beforeAll(async () => {
    codeDir = codeDirectory('switchyard-test-code-api-');
    runtime = await startLocalRuntime({ accountConcurrency: 8, initTimeoutMs: loadedInitTimeoutMs });
    lambda = lambdaClient(runtime);
  });

  afterAll(async () => {
    lambda?.destroy();
    await runtime?.stop();
    rmSync(codeDir, { recursive: true, force: true });
  });

  it('answers 413 RequestEntityTooLargeException for payloads over 6 MB', async () => {
    await lambda.send(
      new CreateFunctionCommand({
        Runtime: 'nodejs22.x',
        FunctionName: 'big',
        Role: 'r',
        Handler: 'index.handler',
        Code: { S3Bucket: localCodeBucket, S3Key: codeDir },
      }),
    );
    await waitForActive(lambda, 'big');
    const oversized = encode({ blob: 'x'.repeat(lambdaLimits.syncPayloadBytes) });
    const error = (await lambda
      .send(new InvokeCommand({ FunctionName: 'big', Payload: oversized }))
      .catch((e) => e)) as {
      name: string;
      $metadata: { httpStatusCode: number };
    };
    expect(error.name).toBe('RequestEntityTooLargeException');
    expect(error.$metadata.httpStatusCode).toBe(413);
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'big' }));
  });

  it('serves a path-style S3 API to the real @aws-sdk/client-s3', async () => {
    const s3 = new S3Client({
      endpoint: runtime.s3Endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'activations' }));
    const data = new Uint8Array(100_000).map((_, i) => i % 251);
    await s3.send(new PutObjectCommand({ Bucket: 'activations', Key: 'layer-0/expert-3.bin', Body: data }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'activations', Key: 'layer-0/expert-3.bin' }));
    expect(head.ContentLength).toBe(100_000);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'activations', Key: 'layer-0/expert-3.bin' }));
    expect(
      new Uint8Array(
        await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      ),
    ).toEqual(data);
    await expect(
      s3.send(new GetObjectCommand({ Bucket: 'activations', Key: 'missing' })),
    ).rejects.toMatchObject({
      name: 'NoSuchKey',
    });
    s3.destroy();
  });

  it('rejects code updates for unknown functions with ResourceNotFoundException', async () => {
    await expect(
      lambda.send(
        new UpdateFunctionCodeCommand({ FunctionName: 'nobody', S3Bucket: localCodeBucket, S3Key: codeDir }),
      ),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('functionS3Endpoint', () => {
  it("tells function instances another S3's endpoint instead of the embedded one's", async () => {
    const codeDir = mkdtempSync(join(tmpdir(), 'switchyard-test-code-s3-'));
    writeFileSync(
      join(codeDir, 'index.mjs'),
      'export const handler = async () => ({ s3: process.env.SWITCHYARD_S3_ENDPOINT });\n',
    );
    const elsewhere = 'http://127.0.0.1:9/';
    const runtime = await startLocalRuntime({
      functionS3Endpoint: elsewhere,
      runner: 'own',
      initTimeoutMs: loadedInitTimeoutMs,
    });
    const lambda = lambdaClient(runtime);
    try {
      expect(runtime.s3Endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await lambda.send(
        new CreateFunctionCommand({
          Runtime: 'nodejs22.x',
          FunctionName: 'where',
          Role: 'r',
          Handler: 'index.handler',
          Code: { S3Bucket: localCodeBucket, S3Key: codeDir },
        }),
      );
      await waitForActive(lambda, 'where');
      const result = await lambda.send(new InvokeCommand({ FunctionName: 'where', Payload: encode({}) }));
      expect(JSON.parse(decoder.decode(result.Payload))).toEqual({ s3: elsewhere });
    } finally {
      lambda.destroy();
      await runtime.stop();
      rmSync(codeDir, { recursive: true, force: true });
    }
  });
});
