import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalQuantile } from './statistics.js';

describe('normalQuantile', () => {
  it('matches known quantiles of the standard normal', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.95)).toBeCloseTo(1.6448536, 6);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.0902323, 6);
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(normalQuantile(1.5)).toBeNaN();
  });

  it('is increasing and antisymmetric about 0.5 (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-6, max: 0.4999, noNaN: true }),
        fc.double({ min: 1e-9, max: 0.01, noNaN: true }),
        (p, step) => {
          expect(normalQuantile(p + step)).toBeGreaterThan(normalQuantile(p));
          expect(normalQuantile(1 - p)).toBeCloseTo(-normalQuantile(p), 7);
        },
      ),
      { seed: 3 },
    );
  });
});
