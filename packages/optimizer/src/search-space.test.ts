import { createRandom } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { SearchSpace } from './search-space.js';

const space = new SearchSpace([
  { kind: 'integer', name: 'replicas', min: 1, max: 3 },
  { kind: 'ordinal', name: 'memoryMB', values: [128, 512, 1024, 3008] },
  { kind: 'categorical', name: 'method', values: ['s3-pipelined', 's3', 'direct'] },
]);

describe('SearchSpace', () => {
  it('counts and enumerates every point once', () => {
    const all = [...space.enumerate()];
    expect(space.size).toBe(36);
    expect(new Set(all.map((v) => space.key(v))).size).toBe(36);
    expect(space.featureCount).toBe(5);
  });

  it('round-trips points and encodes into [0, 1] with one-hot categories', () => {
    const random = createRandom(1);
    for (let i = 0; i < 50; i++) {
      const vector = space.sample(random);
      const point = space.toPoint(vector);
      expect(space.fromPoint(point)).toEqual(vector);
      const features = new Float64Array(space.featureCount);
      space.encode(vector, features);
      for (const feature of features) expect(feature >= 0 && feature <= 1).toBe(true);
      expect(features[2]! + features[3]! + features[4]!).toBe(1);
    }
    expect(space.toPoint([2, 3, 1])).toEqual({ replicas: 2, memoryMB: 3008, method: 's3' });
  });

  it('names the dimension of an invalid point', () => {
    expect(() => space.fromPoint({ replicas: 1, memoryMB: 100, method: 's3' })).toThrow(/point\.memoryMB/);
  });

  it('rejects malformed dimensions', () => {
    expect(() => new SearchSpace([{ kind: 'ordinal', name: 'm', values: [3, 1] }])).toThrow(/increasing/);
    expect(
      () =>
        new SearchSpace([
          { kind: 'integer', name: 'a', min: 0, max: 1 },
          { kind: 'integer', name: 'a', min: 0, max: 1 },
        ]),
    ).toThrow(/twice/);
  });

  it('samples reals on a log scale within bounds', () => {
    const real = new SearchSpace([{ kind: 'real', name: 'rate', min: 1e-4, max: 1, log: true }]);
    const random = createRandom(2);
    const draws = Array.from({ length: 400 }, () => real.sample(random)[0]!);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(1e-4);
    expect(Math.max(...draws)).toBeLessThanOrEqual(1);
    // Log-uniform: about a quarter of draws below 1e-3.
    expect(draws.filter((d) => d < 1e-3).length).toBeGreaterThan(60);
    expect(real.size).toBe(Number.POSITIVE_INFINITY);
  });
});
