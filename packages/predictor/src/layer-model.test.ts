import { createRandom } from '@switchyard/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calibrateDispersion, neededDispersion } from './dispersion.js';
import { KeyTable } from './key-table.js';
import { LayerModel } from './layer-model.js';
import { maximiseByNewton } from './maximise-by-newton.js';

describe('KeyTable', () => {
  it('finds every inserted key across growth and misses absent ones', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 2 ** 52 - 1 }), { maxLength: 300 }), (keys) => {
        const table = new KeyTable(2);
        keys.forEach((key, row) => {
          table.insert(key, row);
        });
        keys.forEach((key, row) => {
          expect(table.find(key)).toBe(row);
        });
        expect(table.find(2 ** 52 + 1)).toBe(-1);
        expect(table.size).toBe(keys.length);
      }),
      { seed: 7, numRuns: 50 },
    );
  });
});

/** A model with levels [global, token] fed from (token, experts) pairs. */
function modelFrom(
  observations: [number, number[]][],
  numExperts: number,
  topK: number,
): { model: LayerModel; keys: Float64Array } {
  const model = new LayerModel(numExperts, topK, 2, new Float64Array(numExperts).fill(1 / numExperts));
  const keys = new Float64Array(2 * observations.length);
  observations.forEach(([token], t) => {
    keys[t] = 1;
    keys[observations.length + t] = 100 + token;
  });
  observations.forEach(([, experts], t) => {
    model.addToken(keys, observations.length, t, experts, 0, 1);
  });
  return { model, keys };
}

const observation = (numExperts: number, topK: number) =>
  fc.tuple(
    fc.integer({ min: 0, max: 5 }),
    fc.uniqueArray(fc.integer({ min: 0, max: numExperts - 1 }), { minLength: topK, maxLength: topK }),
  );

describe('LayerModel', () => {
  it('gives probabilities that are positive and sum to 1 at every level, for any counts and α', () => {
    fc.assert(
      fc.property(
        fc.array(observation(6, 2), { minLength: 1, maxLength: 60 }),
        fc.double({ min: 1e-3, max: 1e4, noNaN: true }),
        fc.double({ min: 1e-3, max: 1e4, noNaN: true }),
        (observations, alpha0, alpha1) => {
          const { model, keys } = modelFrom(observations, 6, 2);
          model.concentrations[0] = alpha0;
          model.concentrations[1] = alpha1;
          const out = new Float64Array(6);
          for (let t = 0; t < observations.length; t++) {
            model.tokenProbabilities(keys, observations.length, t, out);
            const sum = out.reduce((a, b) => a + b, 0);
            expect(sum).toBeCloseTo(1, 10);
            for (const p of out) expect(p).toBeGreaterThan(0);
          }
        },
      ),
      { seed: 11, numRuns: 100 },
    );
  });

  it('empirical Bayes picks a large α when contexts carry no information and a small one when they decide the expert', () => {
    const informative: [number, number[]][] = [];
    const noise: [number, number[]][] = [];
    const random = createRandom(5);
    for (let i = 0; i < 400; i++) {
      const token = i % 8;
      informative.push([token, [token % 4, 4 + (token % 4)]]);
      noise.push([token, [Math.floor(random() * 4), 4 + Math.floor(random() * 4)]]);
    }
    const a = modelFrom(informative, 8, 2).model;
    const b = modelFrom(noise, 8, 2).model;
    a.fitConcentrations();
    b.fitConcentrations();
    expect(a.concentrations[1]).toBeLessThan(0.1);
    expect(b.concentrations[1]).toBeGreaterThan(100);
  });

  it('forgetting with scale equals dividing every count', () => {
    const { model, keys } = modelFrom(
      [
        [1, [0, 1]],
        [1, [2, 3]],
        [2, [0, 3]],
      ],
      4,
      2,
    );
    model.concentrations.set([2, 3]);
    const before = model.tokenProbabilities(keys, 3, 0, new Float64Array(4)).slice();
    model.advance(10, 5); // two half-lives: counts worth a quarter
    const decayed = model.tokenProbabilities(keys, 3, 0, new Float64Array(4)).slice();
    model.normaliseScale();
    const normalised = model.tokenProbabilities(keys, 3, 0, new Float64Array(4));
    expect(Array.from(normalised)).toEqual(Array.from(decayed).map((x) => expect.closeTo(x, 12)));
    expect(decayed).not.toEqual(before);
  });

  it('maximiseByNewton finds the maximum from derivatives, or the bound it lies beyond', () => {
    fc.assert(
      fc.property(fc.double({ min: -9, max: 9, noNaN: true }), (logTarget) => {
        // f(α) = −(log α − m)²: f′ = −2(log α − m)/α, f″ = (2(log α − m) − 2)/α².
        const found = maximiseByNewton(
          (alpha, out) => {
            const d = Math.log(alpha) - logTarget;
            out[0] = (-2 * d) / alpha;
            out[1] = (2 * d - 2) / (alpha * alpha);
          },
          1e-3,
          1e3,
        );
        const clamped = Math.min(Math.log(1e3), Math.max(Math.log(1e-3), logTarget));
        expect(Math.log(found)).toBeCloseTo(clamped, 5);
      }),
      { seed: 3, numRuns: 40 },
    );
  });

  it('calibrateDispersion is the smallest variance factor covering the nominal share (split-conformal)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.double({ min: -50, max: 50, noNaN: true }),
            fc.double({ min: 0.1, max: 100, noNaN: true }),
          ),
          {
            minLength: 20,
            maxLength: 200,
          },
        ),
        fc.double({ min: 0.5, max: 0.95, noNaN: true }),
        (records, level) => {
          const z = 1.6448536269514722;
          const needed = records.map(([residual, variance]) => neededDispersion(residual, variance, z));
          const factor = calibrateDispersion(needed, level);
          const covered = (phi: number): number =>
            records.filter(
              ([residual, variance]) => Math.abs(residual) <= z * Math.sqrt(phi * variance) * (1 + 1e-12),
            ).length / records.length;
          expect(covered(factor)).toBeGreaterThanOrEqual(level);
          if (factor !== 1)
            expect(covered(factor * 0.999)).toBeLessThan(Math.min(1, level + 2 / records.length));
        },
      ),
      { seed: 5, numRuns: 50 },
    );
  });
});
