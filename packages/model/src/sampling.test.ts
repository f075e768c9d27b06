import { createRandom } from '@switchyard/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sampleToken } from './sampling.js';

// Multiples of 1/8: distinct logits stay distinct after exp (ties break by id on both sides).
const logitsArbitrary = fc
  .array(
    fc.integer({ min: -64, max: 64 }).map((value) => value / 8),
    { minLength: 2, maxLength: 64 },
  )
  .map((values) => Float32Array.from(values));

/** Ids of the k largest logits (ties: the lower id first, as sampleToken orders them). */
function topIds(logits: Float32Array, k: number): Set<number> {
  const order = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]! || a - b);
  return new Set(order.slice(0, k));
}

describe('sampleToken', () => {
  it('without top-k draws exactly what the sampler drew before top-k existed (same stream, same token)', () => {
    fc.assert(
      fc.property(logitsArbitrary, fc.integer({ min: 0, max: 2 ** 31 }), (logits, seed) => {
        const options = { temperature: 0.9, topP: 0.95, greedy: false };
        const a = createRandom(seed);
        const b = createRandom(seed);
        const c = createRandom(seed);
        for (let i = 0; i < 8; i++) {
          const before = samplerBeforeTopK(logits, options, a);
          expect(sampleToken(logits, options, b)).toBe(before);
          expect(sampleToken(logits, { ...options, topK: 0 }, c)).toBe(before);
        }
      }),
    );
  });

  it('only ever draws one of the k most likely tokens', () => {
    fc.assert(
      fc.property(
        logitsArbitrary,
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (logits, k, seed) => {
          const allowed = topIds(logits, k);
          const random = createRandom(seed);
          for (let i = 0; i < 16; i++) {
            const token = sampleToken(logits, { temperature: 2, topP: 1, greedy: false, topK: k }, random);
            expect(allowed.has(token)).toBe(true);
          }
        },
      ),
    );
  });

  it('topK 1 is greedy', () => {
    fc.assert(
      fc.property(logitsArbitrary, fc.integer({ min: 0, max: 2 ** 31 }), (logits, seed) => {
        const [best] = topIds(logits, 1);
        const token = sampleToken(
          logits,
          { temperature: 1, topP: 1, greedy: false, topK: 1 },
          createRandom(seed),
        );
        expect(token).toBe(best);
      }),
    );
  });

  it('applies top-p to the distribution renormalised over the top-k (as Hugging Face and vLLM do)', () => {
    // Probabilities 0.4, 0.3, 0.2, 0.1. Over the top 2 they are 4/7 and 3/7: top_p 0.5 keeps only the first.
    const logits = Float32Array.from([0.4, 0.3, 0.2, 0.1].map(Math.log));
    const random = createRandom(3);
    const drawn = new Set<number>();
    for (let i = 0; i < 200; i++)
      drawn.add(sampleToken(logits, { temperature: 1, topP: 0.5, greedy: false, topK: 2 }, random));
    expect([...drawn]).toEqual([0]);
    // Without top-k, 0.4 < 0.5: the nucleus holds two tokens.
    for (let i = 0; i < 200; i++)
      drawn.add(sampleToken(logits, { temperature: 1, topP: 0.5, greedy: false }, random));
    expect([...drawn].sort()).toEqual([0, 1]);
  });
});

/** The sampler as it was before `topK` (git history), kept as the reference the new one must equal. */
function samplerBeforeTopK(
  logits: Float32Array,
  options: { temperature: number; topP: number },
  random: () => number,
): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const value of logits) if (value > max) max = value;
  const weights = new Float64Array(logits.length);
  let total = 0;
  for (let i = 0; i < logits.length; i++) {
    weights[i] = Math.exp((logits[i]! - max) / options.temperature);
    total += weights[i]!;
  }
  const order = Array.from({ length: logits.length }, (_, i) => i).sort(
    (a, b) => weights[b]! - weights[a]! || a - b,
  );
  let kept = 0;
  let mass = 0;
  while (kept < order.length) {
    mass += weights[order[kept]!]! / total;
    kept += 1;
    if (mass >= options.topP) break;
  }
  let target = random() * mass * total;
  for (let i = 0; i < kept; i++) {
    target -= weights[order[i]!]!;
    if (target < 0) return order[i]!;
  }
  return order[kept - 1]!;
}
