import { groupTokensByExpert } from '@switchyard/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makePlan } from '../test/helpers.js';
import { partitionLayer, splitProportionally } from './partition.js';

describe('groupTokensByExpert', () => {
  it('keeps each expert’s tokens in ascending token order', () => {
    const groups = groupTokensByExpert(new Int32Array([2, 0, 1, 2, 2, 1]), 3, 2, 4);
    expect(groups.tokens.map((t) => [...t])).toEqual([[0], [1, 2], [0, 1, 2], []]);
  });

  it('rejects expert ids outside the layer', () => {
    expect(() => groupTokensByExpert(new Int32Array([0, 9]), 1, 2, 4)).toThrowError(/expert 9/);
  });
});

describe('splitProportionally', () => {
  it('adds up to the total and stays within one of the exact share', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5000 }),
        fc.array(fc.double({ min: 0.01, max: 10, noNaN: true }), { minLength: 1, maxLength: 8 }),
        (total, weights) => {
          const shares = splitProportionally(total, weights);
          const sum = weights.reduce((a, b) => a + b, 0);
          expect(shares.reduce((a, b) => a + b, 0)).toBe(total);
          shares.forEach((share, i) => {
            expect(Math.abs(share - (total * weights[i]!) / sum)).toBeLessThan(1 + 1e-9);
          });
        },
      ),
      { seed: 7, numRuns: 100 },
    );
  });
});

describe('partitionLayer', () => {
  it('covers every routed row exactly once, in mini-batches of at most β, on the right functions', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 6, maxLength: 6 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 25 }),
        (counts, perFunction, replicas, beta) => {
          const plan = makePlan({
            layers: [0],
            numExperts: 6,
            hiddenSize: 4,
            expertsPerFunction: perFunction,
            replicas,
          });
          const layer = plan.layers[0]!;
          const batches = partitionLayer({ layer, expertTokenCounts: counts, maxTokensPerBatch: beta });
          const seen = counts.map((count) => new Int32Array(count));
          batches.forEach((batch, index) => {
            expect(batch.index).toBe(index);
            expect(batch.tokens).toBeLessThanOrEqual(beta);
            expect(batch.segments.reduce((n, s) => n + s.count, 0)).toBe(batch.tokens);
            for (const segment of batch.segments) {
              expect(layer.functions[batch.functionIndex]!.experts).toContain(segment.expert);
              expect(segment.count).toBeGreaterThan(0);
              for (let r = segment.start; r < segment.start + segment.count; r++) seen[segment.expert]![r]!++;
            }
          });
          for (const rows of seen) for (const times of rows) expect(times).toBe(1);
        },
      ),
      { seed: 11, numRuns: 100 },
    );
  });

  it('gives a busy replica fewer tokens', () => {
    const plan = makePlan({ layers: [0], numExperts: 1, hiddenSize: 4, replicas: 2 });
    const batches = partitionLayer({
      layer: plan.layers[0]!,
      expertTokenCounts: [90],
      maxTokensPerBatch: 1000,
      inFlight: (name) => (name.endsWith('-r0') ? 2 : 0),
    });
    const byReplica = [0, 0];
    for (const batch of batches) byReplica[batch.replica]! += batch.tokens;
    expect(byReplica).toEqual([23, 67]);
  });

  it('refuses routed tokens for an expert no function holds', () => {
    const plan = makePlan({ layers: [0], numExperts: 2, hiddenSize: 4 });
    expect(() =>
      partitionLayer({ layer: plan.layers[0]!, expertTokenCounts: [1, 1, 3], maxTokensPerBatch: 4 }),
    ).toThrowError(/expert 2/);
  });
});
