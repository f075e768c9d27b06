import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ExpertQuantization, parseSafetensors } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { evaluateLikelihood } from './evaluate.js';
import { loadModel } from './model.js';

const fixtures = join(import.meta.dirname, '../../../fixtures/checkpoints');

/**
 * Mean −log softmax(logits[t])[ids[t + 1]] over every row of a transformers reference (its `input_ids`
 * [B, T] and float32 `logits` [B, T, V]), in float64: the likelihood transformers gives the same tokens.
 */
async function transformersNll(name: string): Promise<{ ids: number[]; length: number; nll: number }> {
  const reference = parseSafetensors(await readFile(join(fixtures, name, 'reference.safetensors')));
  const [rows, length, vocab] = reference.get('logits').shape as [number, number, number];
  const ids = reference.int32('input_ids', [rows, length]);
  const logits = reference.float32('logits');
  let total = 0;
  let scored = 0;
  for (let row = 0; row < rows; row++)
    for (let t = 0; t + 1 < length; t++) {
      const offset = (row * length + t) * vocab;
      let max = Number.NEGATIVE_INFINITY;
      for (let v = 0; v < vocab; v++) max = Math.max(max, logits[offset + v]!);
      let sum = 0;
      for (let v = 0; v < vocab; v++) sum += Math.exp(logits[offset + v]! - max);
      total += Math.log(sum) + max - logits[offset + ids[row * length + t + 1]!]!;
      scored++;
    }
  return { ids: Array.from(ids), length, nll: total / scored };
}

const int4: ExpertQuantization = { format: 'int4', blockSize: 32 };
/** Every fixture with a transformers reference; int4 where the expert dimensions divide its block. */
const cases: Array<{ name: string; formats: ExpertQuantization[] }> = [
  { name: 'shakespeare-mixtral-8x2', formats: [{ format: 'int8' }, int4] },
  { name: 'tiny-mixtral', formats: [{ format: 'int8' }, int4] },
  { name: 'tiny-olmoe', formats: [{ format: 'int8' }] },
  { name: 'tiny-qwen2-moe', formats: [{ format: 'int8' }] },
  { name: 'tiny-qwen3-moe', formats: [{ format: 'int8' }] },
  { name: 'tiny-deepseek-v3', formats: [{ format: 'int8' }] },
  { name: 'tiny-gpt-oss', formats: [{ format: 'int8' }] },
];
/** The accuracy bounds on the relative change of the likelihood. */
const bound = { int8: 0.01, int4: 0.03 } as const;

describe('evaluateLikelihood against the transformers references', () => {
  it.each(cases)(
    '$name: float32 scores the reference tokens as transformers does; int8/int4 stay within 1 %/3 %',
    async ({ name, formats }) => {
      const reference = await transformersNll(name);
      // Each reference row is one window: its first token is context, the rest are scored.
      const float32 = await loadModel(join(fixtures, name));
      const exact = await evaluateLikelihood(float32, reference.ids, { context: reference.length });
      await float32.close();
      expect(exact.tokens).toBe(reference.ids.length - reference.ids.length / reference.length);
      expect(Math.abs(exact.nll - reference.nll)).toBeLessThan(1e-5);
      for (const quantization of formats) {
        const model = await loadModel(join(fixtures, name), { quantization });
        const result = await evaluateLikelihood(model, reference.ids, { context: reference.length });
        await model.close();
        expect(result.nll, `${name} ${quantization.format}`).not.toBe(exact.nll);
        const change = Math.abs(result.nll / reference.nll - 1);
        expect(change, `${name} ${quantization.format}`).toBeLessThanOrEqual(
          bound[quantization.format as 'int8' | 'int4'],
        );
      }
    },
    60_000,
  );
});
