import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { argmax, createRandom, sampleToken } from './sampling.js';

const logitsArbitrary = fc
  .array(fc.float({ min: -20, max: 20, noNaN: true }), { minLength: 1, maxLength: 64 })
  .map((values) => Float32Array.from(values));

describe('sampleToken', () => {
  it('is greedy at temperature 0', () => {
    fc.assert(
      fc.property(logitsArbitrary, (logits) => {
        expect(sampleToken(logits, { temperature: 0, topP: 1 }, createRandom(1))).toBe(argmax(logits));
      }),
      { seed: 11, numRuns: 200 },
    );
  });

  it('only returns tokens inside the top-p nucleus', () => {
    fc.assert(
      fc.property(
        logitsArbitrary,
        fc.float({ min: Math.fround(0.05), max: 1, noNaN: true }),
        fc.integer(),
        (logits, topP, seed) => {
          const token = sampleToken(logits, { temperature: 1, topP }, createRandom(seed));
          const max = Math.max(...logits);
          const probabilities = Array.from(logits, (l) => Math.exp(l - max));
          const sum = probabilities.reduce((a, b) => a + b, 0);
          // Every token strictly more probable than the chosen one is in the nucleus too, so their mass is < topP.
          const higher =
            probabilities.filter((p) => p > probabilities[token]!).reduce((a, b) => a + b, 0) / sum;
          expect(higher).toBeLessThan(topP + 1e-6);
        },
      ),
      { seed: 12, numRuns: 300 },
    );
  });

  it('follows the softmax distribution at temperature 1', () => {
    const logits = Float32Array.from([Math.log(0.5), Math.log(0.3), Math.log(0.2)]);
    const random = createRandom(7);
    const counts = [0, 0, 0];
    for (let i = 0; i < 20_000; i++) counts[sampleToken(logits, { temperature: 1, topP: 1 }, random)]! += 1;
    expect(counts[0]! / 20_000).toBeCloseTo(0.5, 1);
    expect(counts[1]! / 20_000).toBeCloseTo(0.3, 1);
    expect(counts[2]! / 20_000).toBeCloseTo(0.2, 1);
  });

  it('is reproducible from a seed', () => {
    const logits = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i));
    const draw = (seed: number) => {
      const random = createRandom(seed);
      return Array.from({ length: 20 }, () => sampleToken(logits, { temperature: 0.8, topP: 0.9 }, random));
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });
});
