import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectedImprovement, normalCdf, upperConfidenceBound } from './acquisition.js';

describe('acquisition functions', () => {
  it('normalCdf matches known values', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-1)).toBeCloseTo(0.158655, 6);
  });

  it('expected improvement is non-negative, grows with uncertainty and with a lower mean', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -10, max: 10, noNaN: true }),
        fc.double({ min: 0.01, max: 5, noNaN: true }),
        fc.double({ min: -10, max: 10, noNaN: true }),
        (mean, sd, best) => {
          const ei = expectedImprovement(mean, sd, best);
          expect(ei).toBeGreaterThanOrEqual(0);
          expect(ei).toBeGreaterThanOrEqual(Math.max(best - mean, 0) - 1e-6);
          expect(expectedImprovement(mean, sd * 2, best)).toBeGreaterThanOrEqual(ei - 1e-9);
          expect(expectedImprovement(mean - 1, sd, best)).toBeGreaterThanOrEqual(ei - 1e-9);
        },
      ),
      { seed: 7, numRuns: 200 },
    );
  });

  it('confidence bound prefers low mean and high uncertainty', () => {
    expect(upperConfidenceBound(1, 0.1)).toBeGreaterThan(upperConfidenceBound(2, 0.1));
    expect(upperConfidenceBound(1, 1)).toBeGreaterThan(upperConfidenceBound(1, 0.1));
  });
});
