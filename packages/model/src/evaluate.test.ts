import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareModels } from './compare-models.js';
import { evaluateLikelihood } from './evaluate.js';
import { loadModel, type MoeModel } from './model.js';

const fixture = join(import.meta.dirname, '../../../fixtures/checkpoints/shakespeare-mixtral-8x2');
const text = [...new TextEncoder().encode('ROMEO:\nBut, soft! what light through yonder window breaks?\n')];

describe('evaluateLikelihood', () => {
  let model: MoeModel;
  beforeAll(async () => {
    model = await loadModel(fixture);
  });
  afterAll(async () => {
    await model.close();
  });

  it('scores every token of each non-overlapping window after its first, as one window at a time would', async () => {
    const tokens = text.slice(0, 20);
    const result = await evaluateLikelihood(model, tokens, { context: 8, windowsPerBatch: 2 });
    expect(result.windows).toBe(3);
    expect(result.tokens).toBe(7 + 7 + 3);
    let total = 0;
    for (const start of [0, 8, 16]) {
      const window = tokens.slice(start, start + 8);
      const { logits } = await model.forward([{ sequence: model.createSequence(), tokens: window }], {
        logits: 'all',
      });
      for (let j = 0; j + 1 < window.length; j++) {
        const row = Array.from(logits[0]!.subarray(j * 256, (j + 1) * 256));
        const max = Math.max(...row);
        const logSum = Math.log(row.reduce((sum, value) => sum + Math.exp(value - max), 0)) + max;
        total += logSum - row[window[j + 1]!]!;
      }
    }
    expect(result.nll).toBeCloseTo(total / 17, 10);
    expect(result.bitsPerToken).toBeCloseTo(result.nll / Math.LN2, 12);
    expect(result.perplexity).toBeCloseTo(Math.exp(result.nll), 10);
  });

  it('rejects text with nothing to score and tokens outside the vocabulary', async () => {
    await expect(evaluateLikelihood(model, [65])).rejects.toThrow(/nothing to score/);
    await expect(evaluateLikelihood(model, [65, 300])).rejects.toThrow(/token 300 at position 1/);
  });

  it('compares a model with itself as identical and with its int4 version as close but not equal', async () => {
    const tokens = text.slice(0, 48);
    const same = await compareModels(model, model, tokens, { chunk: 16 });
    expect(same).toEqual({
      tokens: 48,
      routingAgreement: 1,
      expertOverlap: 1,
      maxAbsDiffLogits: 0,
      argmaxAgreement: 1,
    });
    const int4 = await loadModel(fixture, { quantization: { format: 'int4' } });
    const quantized = await compareModels(model, int4, tokens, { chunk: 16 });
    await int4.close();
    expect(quantized.maxAbsDiffLogits).toBeGreaterThan(0);
    expect(quantized.routingAgreement).toBeGreaterThan(0.8);
    expect(quantized.expertOverlap).toBeGreaterThanOrEqual(quantized.routingAgreement);
  });
});
