import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../test/synthetic.js';
import { KeyTable } from './key-table.js';
import { LayerModel, maximiseLogScale } from './layer-model.js';

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
    const random = seededRandom(5);
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

  it('maximiseLogScale finds the maximum of a unimodal function', () => {
    fc.assert(
      fc.property(fc.double({ min: -5, max: 5, noNaN: true }), (logTarget) => {
        const found = maximiseLogScale((x) => -((Math.log(x) - logTarget) ** 2), 1e-3, 1e3);
        expect(Math.log(found)).toBeCloseTo(logTarget, 4);
      }),
      { seed: 3, numRuns: 30 },
    );
  });
});
