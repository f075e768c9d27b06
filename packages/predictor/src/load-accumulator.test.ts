import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { syntheticTrace } from '../test/synthetic.js';
import { fitPredictor } from './fit.js';
import type { Predictor } from './predictor.js';

/**
 * The hierarchical model's load mean and variance by brute force over token pairs:
 *   Var X_e = Σ_t π_t(1 − π_t) + K² Σ_{t ≠ s} Σ_{nodes n shared by t, s} w_tn w_sn p̂_n(1 − p̂_n)/(A_n + 1),
 * w_tn = product of α/A over the known rows between t's deepest known row and n (1 through unseen
 * contexts), A_n = N_n + α (α for an unseen context), p̂ of an unseen context = its known ancestor's.
 */
function bruteForceLoad(
  predictor: Predictor,
  layer: number,
  keys: Float64Array,
  numTokens: number,
): { mean: Float64Array; variance: Float64Array } {
  const model = predictor.state.layers[layer]!;
  const E = model.numExperts;
  const K = model.topK;
  type Node = { id: string; weight: number; p: Float64Array; total: number };
  const chains: Node[][] = [];
  const deepest: Float64Array[] = [];
  for (let t = 0; t < numTokens; t++) {
    const known: { level: number; row: number }[] = [];
    const unseen: { level: number; key: number }[] = [];
    for (let c = 0; c < model.numLevels; c++) {
      const key = keys[c * numTokens + t]!;
      if (Number.isNaN(key)) break;
      const row = unseen.length === 0 ? model.levels[c]!.table.find(key) : -1;
      if (row === -1) unseen.push({ level: c, key });
      else known.push({ level: c, row });
    }
    const probability = (level: number, row: number): Float64Array =>
      model.probabilities(level, row, new Float64Array(E));
    const last = known[known.length - 1];
    const own = last ? probability(last.level, last.row) : Float64Array.from(model.base);
    deepest.push(own);
    const chain: Node[] = unseen.map(({ level, key }) => ({
      id: `u${level}:${key}`,
      weight: 1,
      p: own,
      total: model.concentrations[level]!,
    }));
    let weight = 1;
    for (let i = known.length - 1; i >= 0; i--) {
      const { level, row } = known[i]!;
      const total = model.levels[level]!.totals[row]! + model.concentrations[level]!;
      chain.push({ id: `k${level}:${row}`, weight, p: probability(level, row), total });
      weight *= model.concentrations[level]! / total;
    }
    chains.push(chain);
  }
  const mean = new Float64Array(E);
  const variance = new Float64Array(E);
  for (let t = 0; t < numTokens; t++)
    for (let e = 0; e < E; e++) {
      const inclusion = K * deepest[t]![e]!;
      mean[e]! += inclusion;
      variance[e]! += inclusion * (1 - inclusion);
    }
  for (let t = 0; t < numTokens; t++)
    for (let s = 0; s < numTokens; s++) {
      if (s === t) continue;
      for (const a of chains[t]!)
        for (const b of chains[s]!) {
          if (a.id !== b.id) continue;
          for (let e = 0; e < E; e++)
            variance[e]! += (K * K * a.weight * b.weight * a.p[e]! * (1 - a.p[e]!)) / (a.total + 1);
        }
    }
  return { mean, variance };
}

describe('LoadAccumulator (through Predictor.accumulateLoad)', () => {
  it('gives the hierarchical model’s exact load mean and variance, including repeated unseen contexts', () => {
    const base = { numExperts: 6, topK: 2, numLayers: 2, chunk: 32 };
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), (seed) => {
        const predictor = fitPredictor(syntheticTrace({ ...base, seed, tokens: 512, vocabulary: 12 }), {
          calibrationFolds: 2,
        });
        // A wider vocabulary and a short repeated phrase: unseen tokens and contexts that recur.
        const held = syntheticTrace({ ...base, seed: seed + 1, tokens: 40, vocabulary: 16 });
        held.tokens.set(held.tokens.subarray(0, 8), 20);
        const batch = { tokens: held.tokens, topkIds: held.topkIds };
        for (let layer = 0; layer < 2; layer++) {
          const keys = predictor.levelKeys(batch, layer);
          const mean = new Float64Array(6);
          const variance = new Float64Array(6);
          predictor.accumulateLoad(layer, keys, 40, 0, 40, mean, variance);
          const expected = bruteForceLoad(predictor, layer, keys, 40);
          for (let e = 0; e < 6; e++) {
            expect(mean[e]).toBeCloseTo(expected.mean[e]!, 9);
            expect(variance[e]).toBeCloseTo(expected.variance[e]!, 9);
          }
        }
      }),
      { seed: 11, numRuns: 6 },
    );
  });
});
