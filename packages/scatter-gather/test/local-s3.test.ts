import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { decodeS3Reference, type Executor, encodeS3Reference } from '@switchyard/core';
import { type LocalRuntime, startLocalRuntime } from '@switchyard/lambda-local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteMoeStep } from '../src/index.js';
import { answer, makePlan, randomRouting, referenceMoe } from './helpers.js';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

describe('object-storage transport against the local runtime’s S3 API', () => {
  let runtime: LocalRuntime;
  let s3: S3Client;
  beforeAll(async () => {
    runtime = await startLocalRuntime({});
    s3 = new S3Client({
      endpoint: runtime.s3Endpoint!,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials,
    });
  });
  afterAll(async () => {
    s3?.destroy();
    await runtime?.stop();
  });

  /** A function stand-in that follows the S3 reference protocol through the real S3 API. */
  const executor: Executor = {
    async invoke(request) {
      const started = performance.now();
      const reference = decodeS3Reference(request.payload);
      const object = await s3.send(
        new GetObjectCommand({ Bucket: reference.bucket, Key: reference.inputKey! }),
      );
      const output = answer(await object.Body!.transformToByteArray());
      await s3.send(
        new PutObjectCommand({ Bucket: reference.bucket, Key: reference.outputKey, Body: output }),
      );
      const latencyMs = performance.now() - started;
      return {
        payload: encodeS3Reference({
          bucket: reference.bucket,
          outputKey: reference.outputKey,
          bytes: output.length,
        }),
        latencyMs,
        billing: {
          requestId: 'x',
          durationMs: latencyMs,
          billedDurationMs: Math.ceil(latencyMs),
          memorySizeMB: 128,
          maxMemoryUsedMB: 1,
        },
      };
    },
  };

  it('round-trips every mini-batch through uploaded and downloaded objects, bit-identically', async () => {
    const hiddenSize = 16;
    for (const method of ['s3-pipelined', 's3'] as const) {
      const plan = makePlan({ layers: [2], numExperts: 4, hiddenSize, method, beta: 10, replicas: 2 });
      const step = createRemoteMoeStep({
        plan,
        executor,
        s3: { bucket: `sg-${method}`, endpoint: runtime.s3Endpoint!, credentials, createBucket: true },
      });
      const routing = randomRouting(21, 60, hiddenSize, 4, 2);
      const actual = await step({ layer: 2, numTokens: 60, hiddenSize, topK: 2, ...routing });
      const expected = referenceMoe(routing, 60, hiddenSize, 4, 2);
      expect(Buffer.from(actual.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
      const summary = step.summary();
      expect(summary.requestBytes).toBeGreaterThan(120 * hiddenSize * 4);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: `sg-${method}` }));
      expect(listed.KeyCount ?? 0).toBe(0); // objects deleted after use
    }
  });
});
