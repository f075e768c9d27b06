import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeExpertMessage, type ExpertQuantization, encodeExpertMessage } from '@switchyard/core';
import { buildExpertGraph, type Checkpoint, createExpertRunner, loadCheckpoint } from '@switchyard/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope } from '../src/envelope.js';
import { createExpertFunction } from '../src/expert-function.js';
import { expertManifestFile } from '../src/manifest.js';

const checkpointDir = fileURLToPath(
  new URL('../../../fixtures/checkpoints/shakespeare-mixtral-8x2', import.meta.url),
);
const H = 128;
const layer = 2;
// 9 tokens for expert 3, then 4 for expert 6.
const experts = [3, 6] as const;
const tokenCounts = [9, 4];
const activations = Float32Array.from({ length: 13 * H }, (_, i) => Math.sin(i * 0.37) * 1.5);

/** Runs each expert's graph in its own in-process runner: what the model's MoE step computes. */
async function inProcess(graphs: Uint8Array[]): Promise<Float32Array> {
  const out = new Float32Array(activations.length);
  let start = 0;
  for (const [index, graph] of graphs.entries()) {
    const count = tokenCounts[index]!;
    const runner = await createExpertRunner(graph, { threads: 1 });
    out.set(await runner.run(activations.slice(start * H, (start + count) * H), count), start * H);
    await runner.close();
    start += count;
  }
  return out;
}

describe('an expert function shipping quantized graphs (shakespeare, layer 2)', () => {
  let checkpoint: Checkpoint;
  let float32: Float32Array;
  let float32Bytes: number;
  const dirs: string[] = [];
  beforeAll(async () => {
    checkpoint = await loadCheckpoint(checkpointDir);
    const graphs = experts.map((expert) => buildExpertGraph({ checkpoint }, layer, expert));
    float32Bytes = graphs[0]!.byteLength;
    float32 = await inProcess(graphs);
  });
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it.each([{ format: 'int8' }, { format: 'int4', blockSize: 32 }] as ExpertQuantization[])(
    '$format: answers as the in-process runner of the same graph, bit for bit, from a smaller artefact',
    async (quantization) => {
      const graphs = experts.map((expert) =>
        buildExpertGraph({ checkpoint }, layer, expert, { quantization }),
      );
      // The artefact shrinks with the format (int8 ~1/4, int4 under 1/6 of the float32 graph).
      expect(graphs[0]!.byteLength).toBeLessThan(float32Bytes / (quantization.format === 'int4' ? 6 : 3.5));
      const dir = mkdtempSync(join(tmpdir(), `switchyard-quantized-function-${quantization.format}-`));
      dirs.push(dir);
      for (const [index, graph] of graphs.entries())
        writeFileSync(join(dir, `e${experts[index]}.onnx`), graph);
      writeFileSync(
        join(dir, expertManifestFile),
        JSON.stringify({
          kind: 'switchyard.expert-manifest',
          version: 1,
          hiddenSize: H,
          experts: experts.map((expert) => ({ layer, expert, file: `e${expert}.onnx` })),
        }),
      );
      const expected = await inProcess(graphs);
      const expertFunction = createExpertFunction({ env: { LAMBDA_TASK_ROOT: dir }, threads: 1 });
      try {
        const request = encodeExpertMessage({
          kind: 'request',
          dtype: 'f32',
          layer,
          sequence: 4,
          hiddenSize: H,
          expertIds: [...experts],
          tokenCounts,
          activations,
        });
        const answer = await expertFunction.handler(
          JSON.parse(Buffer.from(encodeEnvelope(request)).toString('utf8')),
        );
        const response = decodeExpertMessage(decodeEnvelope(Buffer.from(JSON.stringify(answer))));
        expect(response).toMatchObject({ kind: 'response', layer, expertIds: [...experts], tokenCounts });
        expect(response.activations).toEqual(expected);
      } finally {
        await expertFunction.close();
      }
      // Quantized, so not the float32 numbers, but near them: relative RMS error of the outputs
      // (measured 1.4 % int8, 10 % int4 on these rows).
      let squaredError = 0;
      let squaredValue = 0;
      for (let i = 0; i < expected.length; i++) {
        squaredError += (expected[i]! - float32[i]!) ** 2;
        squaredValue += float32[i]! ** 2;
      }
      const relativeRms = Math.sqrt(squaredError / squaredValue);
      expect(relativeRms).toBeGreaterThan(0);
      expect(relativeRms).toBeLessThan(quantization.format === 'int4' ? 0.2 : 0.03);
    },
  );
});
