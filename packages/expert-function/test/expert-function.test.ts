import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  decodeExpertMessage,
  decodeS3Reference,
  encodeExpertMessage,
  encodeS3Reference,
} from '@switchyard/core';
import { type LocalRuntime, startLocalRuntime } from '@switchyard/lambda-local';
import { buildExpertGraph, type Checkpoint, createExpertRunner, loadCheckpoint } from '@switchyard/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope } from '../src/envelope.js';
import { ExpertFunctionError } from '../src/errors.js';
import { createExpertFunction } from '../src/expert-function.js';
import { expertManifestFile } from '../src/manifest.js';

const checkpointDir = fileURLToPath(
  new URL('../../../fixtures/checkpoints/shakespeare-mixtral-8x2', import.meta.url),
);
const H = 128;

/** The event Lambda hands the handler: the envelope, parsed from JSON. */
const event = (message: Uint8Array): unknown =>
  JSON.parse(Buffer.from(encodeEnvelope(message)).toString('utf8'));

describe('createExpertFunction in process with the shakespeare experts of layer 1', () => {
  let checkpoint: Checkpoint;
  let dir: string;
  let expected: Float32Array;
  const activations = Float32Array.from({ length: 12 * H }, (_, i) => Math.cos(i * 0.29) * 1.2);
  // 7 tokens for expert 1, then 5 for expert 0.
  const request = (): Uint8Array =>
    encodeExpertMessage({
      kind: 'request',
      dtype: 'f32',
      layer: 1,
      sequence: 9,
      hiddenSize: H,
      expertIds: [1, 0],
      tokenCounts: [7, 5],
      activations,
    });

  beforeAll(async () => {
    checkpoint = await loadCheckpoint(checkpointDir);
    dir = mkdtempSync(join(tmpdir(), 'switchyard-expert-function-'));
    mkdirSync(join(dir, 'graphs'));
    for (const expert of [0, 1]) {
      writeFileSync(join(dir, 'graphs', `e${expert}.onnx`), buildExpertGraph({ checkpoint }, 1, expert));
    }
    const manifest = {
      kind: 'switchyard.expert-manifest',
      version: 1,
      hiddenSize: H,
      experts: [0, 1].map((expert) => ({ layer: 1, expert, file: `graphs/e${expert}.onnx` })),
    };
    writeFileSync(join(dir, expertManifestFile), JSON.stringify(manifest));
    expected = new Float32Array(12 * H);
    for (const [expert, start, count] of [
      [1, 0, 7],
      [0, 7, 5],
    ] as const) {
      const runner = await createExpertRunner(buildExpertGraph({ checkpoint }, 1, expert), { threads: 1 });
      expected.set(await runner.run(activations.slice(start * H, (start + count) * H), count), start * H);
      await runner.close();
    }
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers a wire request with the in-process runner outputs, bit for bit', async () => {
    const expertFunction = createExpertFunction({ env: { LAMBDA_TASK_ROOT: dir }, threads: 1 });
    try {
      const answer = await expertFunction.handler(event(request()));
      // As the caller reads it: the handler's result is serialised to JSON by the runtime.
      const response = decodeExpertMessage(decodeEnvelope(Buffer.from(JSON.stringify(answer))));
      expect(response).toMatchObject({
        kind: 'response',
        layer: 1,
        sequence: 9,
        expertIds: [1, 0],
        tokenCounts: [7, 5],
      });
      expect(response.activations).toEqual(expected);
    } finally {
      await expertFunction.close();
    }
  });

  it('takes its threads from the options, the manifest, SWITCHYARD_VCPU_THREADS or the memory size', async () => {
    const fromMemory = createExpertFunction({
      env: { LAMBDA_TASK_ROOT: dir, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128' },
    });
    const fromRuntime = createExpertFunction({
      env: { LAMBDA_TASK_ROOT: dir, SWITCHYARD_VCPU_THREADS: '3' },
    });
    const fromOptions = createExpertFunction({
      env: { LAMBDA_TASK_ROOT: dir, SWITCHYARD_VCPU_THREADS: '3' },
      threads: 2,
    });
    try {
      await Promise.all([fromMemory.ready, fromRuntime.ready, fromOptions.ready]);
      expect([fromMemory.threads, fromRuntime.threads, fromOptions.threads]).toEqual([1, 3, 2]);
    } finally {
      await Promise.all([fromMemory.close(), fromRuntime.close(), fromOptions.close()]);
    }
  });

  it('fails a request for an expert it does not hold, and an unreadable manifest, with ExpertFunctionError', async () => {
    const expertFunction = createExpertFunction({ manifestPath: join(dir, expertManifestFile), threads: 1 });
    const wrong = encodeExpertMessage({ ...decodeExpertMessage(request()), expertIds: [5, 0] });
    const error = await expertFunction.handler(event(wrong)).catch((e: unknown) => e);
    expect(ExpertFunctionError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'INFERENCE_FAILED', message: expect.stringMatching(/expert 5/) });
    await expertFunction.close();

    const missing = createExpertFunction({ manifestPath: join(dir, 'nowhere.json') });
    await expect(missing.ready).rejects.toMatchObject({
      code: 'INFERENCE_FAILED',
      location: join(dir, 'nowhere.json'),
    });
    await missing.close();
  });

  describe('through S3 (SWITCHYARD_S3_ENDPOINT: the embedded S3 of @switchyard/lambda-local)', () => {
    let runtime: LocalRuntime;
    beforeAll(async () => {
      runtime = await startLocalRuntime({});
    });
    afterAll(async () => {
      await runtime?.stop();
    });

    it('loads graphs from s3:// and answers an S3 reference with one', async () => {
      const s3 = runtime.s3!;
      for (const expert of [0, 1])
        s3.putObject('models', `layer1/e${expert}.onnx`, buildExpertGraph({ checkpoint }, 1, expert));
      const manifestPath = join(dir, 's3-manifest.json');
      writeFileSync(
        manifestPath,
        JSON.stringify({
          kind: 'switchyard.expert-manifest',
          version: 1,
          hiddenSize: H,
          threads: 1,
          experts: [0, 1].map((expert) => ({ layer: 1, expert, file: `s3://models/layer1/e${expert}.onnx` })),
        }),
      );
      s3.putObject('activations', 'batch-9/in', request());
      const expertFunction = createExpertFunction({
        manifestPath,
        env: { SWITCHYARD_S3_ENDPOINT: runtime.s3Endpoint },
      });
      try {
        const answer = await expertFunction.handler(
          event(
            encodeS3Reference({ bucket: 'activations', inputKey: 'batch-9/in', outputKey: 'batch-9/out' }),
          ),
        );
        const reference = decodeS3Reference(new Uint8Array(Buffer.from(answer.data, 'base64')));
        expect(reference).toMatchObject({ bucket: 'activations', outputKey: 'batch-9/out' });
        const written = s3.getObject('activations', 'batch-9/out')!;
        expect(reference.bytes).toBe(written.byteLength);
        expect(decodeExpertMessage(written).activations).toEqual(expected);
      } finally {
        await expertFunction.close();
      }
    });

    it('loads content-addressed graphs and fails INIT naming an object that is missing or not what its key says', async () => {
      const s3 = runtime.s3!;
      const graph = (expert: number) => buildExpertGraph({ checkpoint }, 1, expert);
      const key = (bytes: Uint8Array) => `m/graphs/${createHash('sha256').update(bytes).digest('hex')}.onnx`;
      const manifestWith = (name: string, files: string[]): string => {
        const path = join(dir, name);
        writeFileSync(
          path,
          JSON.stringify({
            kind: 'switchyard.expert-manifest',
            version: 1,
            hiddenSize: H,
            threads: 1,
            experts: files.map((file, expert) => ({ layer: 1, expert, file })),
          }),
        );
        return path;
      };
      const env = { SWITCHYARD_S3_ENDPOINT: runtime.s3Endpoint };
      for (const expert of [0, 1]) s3.putObject('weights', key(graph(expert)), graph(expert));
      const good = createExpertFunction({
        manifestPath: manifestWith(
          'addressed.json',
          [0, 1].map((e) => `s3://weights/${key(graph(e))}`),
        ),
        env,
      });
      const answer = await good.handler(event(request()));
      expect(decodeExpertMessage(decodeEnvelope(Buffer.from(JSON.stringify(answer)))).activations).toEqual(
        expected,
      );
      await good.close();

      // Expert 1's bytes under expert 0's content address: a replaced object.
      s3.putObject('weights', `m/graphs/${'0'.repeat(64)}.onnx`, graph(1));
      const swapped = createExpertFunction({
        manifestPath: manifestWith('swapped.json', [`s3://weights/m/graphs/${'0'.repeat(64)}.onnx`]),
        env,
      });
      await expect(swapped.ready).rejects.toMatchObject({
        code: 'INFERENCE_FAILED',
        location: `s3://weights/m/graphs/${'0'.repeat(64)}.onnx`,
        message: expect.stringMatching(/the graph's SHA-256 is [0-9a-f]{64}, not the 0{64} its key names/),
      });
      await swapped.close();
      const missing = createExpertFunction({
        manifestPath: manifestWith('missing.json', ['s3://weights/m/graphs/gone.onnx']),
        env,
      });
      await expect(missing.ready).rejects.toMatchObject({
        code: 'INFERENCE_FAILED',
        location: 's3://weights/m/graphs/gone.onnx',
        message: expect.stringMatching(/^cannot read the expert graph: /),
      });
      await missing.close();
    });
  });
});
