import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeCurveAt, computeTimeMs, curveSegment, curveValueMs, shareFactor } from './compute-curve.js';
import { fitComputeProfile } from './fit-compute-profile.js';

const meta = {
  subject: { model: 'synthetic' },
  machine: { description: 'test', logicalCpus: 2 },
  createdAt: '2026-11-28',
};

describe('piecewise-linear curves', () => {
  const knots = fc
    .uniqueArray(fc.integer({ min: 1, max: 5000 }), { minLength: 2, maxLength: 8 })
    .chain((tokens) =>
      fc.tuple(
        fc.constant(Float64Array.from([...tokens].sort((a, b) => a - b))),
        fc.array(fc.double({ min: 0.01, max: 100, noNaN: true }), {
          minLength: tokens.length,
          maxLength: tokens.length,
        }),
      ),
    );

  it('pass through the knots, stay positive, and their local line is the curve (property)', () => {
    fc.assert(
      fc.property(knots, fc.integer({ min: 1, max: 20_000 }), ([tokens, values], at) => {
        const ms = Float64Array.from(values);
        for (let k = 0; k < tokens.length; k++)
          if (Math.abs(curveValueMs(tokens, ms, tokens[k]!) - ms[k]!) > 1e-9 * ms[k]!) return false;
        const value = curveValueMs(tokens, ms, at);
        const line = curveSegment(tokens, ms, at, { fixedMs: 0, perTokenMs: 0 });
        return (
          value > 0 && Math.abs(line.fixedMs + line.perTokenMs * at - value) <= 1e-9 * Math.max(1, value)
        );
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  it('computeCurveAt rejects a non-positive share', () => {
    const profile = fitComputeProfile(
      [
        { threads: 1, tokens: 10, durationMs: 1 },
        { threads: 1, tokens: 100, durationMs: 5 },
      ],
      meta,
    );
    expect(() => computeCurveAt(profile, 0)).toThrow(/vcpus/);
  });
});

describe('shareFactor', () => {
  it('is 1/v below one vCPU and Amdahl above (property: non-increasing in v)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.05, max: 6, noNaN: true }),
        fc.double({ min: 0.05, max: 6, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (a, b, p) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          return shareFactor(high, p) <= shareFactor(low, p) + 1e-12;
        },
      ),
      { seed: 11, numRuns: 300 },
    );
    expect(shareFactor(0.5, 0.9)).toBe(2);
    expect(shareFactor(1, 0.9)).toBe(1);
    expect(shareFactor(2, 1)).toBe(0.5);
  });

  it('compute time falls (or stays) as memory grows when more threads were faster', () => {
    const profile = fitComputeProfile(
      [
        { threads: 1, tokens: 10, durationMs: 1 },
        { threads: 1, tokens: 100, durationMs: 5 },
        { threads: 2, tokens: 10, durationMs: 0.8 },
        { threads: 2, tokens: 100, durationMs: 3 },
      ],
      meta,
    );
    for (const tokens of [1, 10, 50, 100, 1000]) {
      let previous = Number.POSITIVE_INFINITY;
      for (let memoryMB = 128; memoryMB <= 10_240; memoryMB += 128) {
        const value = computeTimeMs(profile, tokens, memoryMB);
        expect(value).toBeLessThanOrEqual(previous + 1e-12);
        previous = value;
      }
    }
  });
});
