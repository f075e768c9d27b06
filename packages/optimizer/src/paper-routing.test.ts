import { createRandom } from '@switchyard/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { testDomains } from '../test/paper-fixtures.js';
import { multinomialDraw, paperRouting } from './paper-routing.js';

describe('paperRouting', () => {
  const base = {
    domains: testDomains,
    calibrationDomains: ['web', 'books'],
    numLayers: 4,
    numExperts: 4,
    topK: 2,
    tokensPerBatch: 1000,
    calibrationBatchesPerDomain: 3,
    heldOutBatchesPerDomain: 2,
    seed: 5,
  };

  it('draws calibration batches from the calibration domains and held-out batches from every domain', () => {
    const routing = paperRouting(base);
    expect(routing.calibration.map((batch) => batch.domain)).toEqual([
      'web',
      'books',
      'web',
      'books',
      'web',
      'books',
    ]);
    expect(routing.heldOut.map((batch) => batch.domain).sort()).toEqual(
      ['books', 'books', 'code', 'code', 'web', 'web'].sort(),
    );
    for (const batch of [...routing.calibration, ...routing.heldOut]) {
      expect(batch.loads).toHaveLength(4);
      for (const layer of batch.loads) {
        expect(layer).toHaveLength(4);
        // tokensPerBatch × topK selections per layer.
        expect(layer.reduce((sum, count) => sum + count, 0)).toBe(2000);
      }
    }
    // Different random streams: no held-out batch repeats a calibration batch.
    const keys = new Set(routing.calibration.map((batch) => JSON.stringify(batch.loads)));
    for (const batch of routing.heldOut) expect(keys.has(JSON.stringify(batch.loads))).toBe(false);
  });

  it('takes the same experts of a source layer in every domain', () => {
    const routing = paperRouting(base);
    // Layer 3 cycles back to source layer 0; each domain's shares are its counts at the same indices.
    for (let layer = 0; layer < 4; layer++) {
      const source = layer % 3;
      const indexOf = (value: number, counts: readonly number[]) => counts.indexOf(value);
      const webIndices = routing.shares.web![layer]!.map((count) =>
        indexOf(count, testDomains[0]!.layers[source]!),
      );
      const codeCounts = webIndices.map((index) => testDomains[2]!.layers[source]![index]!);
      expect(routing.shares.code![layer]).toEqual(codeCounts);
    }
  });

  it('names an unknown domain and a layer whose experts were never selected', () => {
    expect(() => paperRouting({ ...base, calibrationDomains: ['news'] })).toThrow(
      /calibrationDomains domain "news"/,
    );
    expect(() =>
      paperRouting({
        ...base,
        numExperts: 2,
        domains: [{ name: 'web', layers: [[0, 0, 0, 0]] }],
        calibrationDomains: ['web'],
      }),
    ).toThrow(/domain "web": the experts chosen for layer 0 were never selected/);
  });

  it('multinomialDraw makes exactly `count` draws, none where the weight is 0 (property, fixed seed)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 0, max: 500 }),
        fc.integer(),
        (weights, count, seed) => {
          const counts = multinomialDraw(weights, count, createRandom(seed));
          const total = weights.reduce((sum, w) => sum + w, 0);
          expect(counts.reduce((sum, c) => sum + c, 0)).toBe(total > 0 ? count : 0);
          weights.forEach((weight, i) => {
            if (weight === 0) expect(counts[i]).toBe(0);
          });
        },
      ),
      { seed: 2112, numRuns: 200 },
    );
  });
});
