import { fileURLToPath } from 'node:url';
import { type MoeStep, wireMessageBytes } from '@switchyard/core';
import { loadModel, type MoeModel } from '@switchyard/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDefaultPlan, createFaultInjectingExecutor, createRemoteMoeStep } from '../src/index.js';
import { createOnnxExecutor } from './onnx-executor.js';

const modelDir = fileURLToPath(
  new URL('../../../fixtures/checkpoints/shakespeare-mixtral-8x2', import.meta.url),
);
const prompt = [...new TextEncoder().encode('ROMEO:\nBut soft, what light through yonder window breaks?\n')];

describe('remote MoE step on the real shakespeare-mixtral-8x2 experts', () => {
  let model: MoeModel;
  beforeAll(async () => {
    model = await loadModel(modelDir);
  });
  afterAll(async () => {
    await model?.close();
  });

  async function logits(moeStep?: MoeStep) {
    const sequence = model.createSequence();
    const result = await model.forward([{ sequence, tokens: prompt }], {
      logits: 'all',
      moeStep,
    });
    model.releaseSequence(sequence);
    return result.logits[0]!;
  }

  it('gives bit-identical logits with ONNX experts cut into odd mini-batches across replicas, under faults', async () => {
    const expected = await logits();
    // A direct payload is cut only at the payload limit (paper method 3 is not pipelined), so the
    // limit is set to hold exactly 1, 3, 7 or 64 rows of one expert.
    const envelopeOverheadBytes = 1024;
    for (const rows of [1, 3, 7, 64]) {
      const plan = createDefaultPlan(model.summary, { replicas: 2 });
      const payloadLimitBytes =
        envelopeOverheadBytes + 4 * Math.ceil(wireMessageBytes(1, rows, model.summary.hiddenSize, 'f32') / 3);
      const executor = createFaultInjectingExecutor(
        createOnnxExecutor({
          plan,
          runner: (layer, expert) => ({ run: (x, n) => model.runExpert(layer, expert, x, n) }),
        }),
        { seed: rows, failRate: 0.05, throttleRate: 0.05, lateRate: 0.05, lateMs: 5 },
      );
      const step = createRemoteMoeStep({
        plan,
        executor,
        retry: { maxRetries: 10 },
        payloadLimitBytes,
        envelopeOverheadBytes,
      });
      const actual = await logits(step);
      expect(Buffer.from(actual.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
      const summary = step.summary();
      expect(summary.rows).toBe(prompt.length * model.summary.topK * model.summary.moeLayers.length);
      for (const layer of summary.layers)
        for (const expert of layer.experts)
          expect(expert.miniBatches).toBeGreaterThanOrEqual(Math.ceil(expert.tokens / rows));
    }
  });
});
