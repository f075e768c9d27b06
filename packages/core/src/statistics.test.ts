import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { median, normalQuantile, quantile } from './statistics.js';

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

describe('median and quantile', () => {
  it('take the middle (or mean of the two middles) and the nearest rank', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
    expect(quantile([5, 1, 4, 2, 3], 0.5)).toBe(3);
    expect(quantile([5, 1, 4, 2, 3], 0.9)).toBe(5);
    expect(quantile([5, 1, 4, 2, 3], 0)).toBe(1);
    expect(() => quantile([1], 1.5)).toThrow(/q must be in/);
  });

  it('returns a member of the list bounded by its extremes, monotone in q', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 40 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (values, a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          expect(values).toContain(quantile(values, low));
          expect(quantile(values, low)).toBeLessThanOrEqual(quantile(values, high));
          const m = median(values);
          expect(m).toBeGreaterThanOrEqual(Math.min(...values));
          expect(m).toBeLessThanOrEqual(Math.max(...values));
        },
      ),
    );
  });
});
