import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flatComputeProfile, handTransport, makePlan } from '../test/fixtures.js';
import {
  fitInvocationOverhead,
  invocationFixedMs,
  invocationOverheadMs,
  invocationPerByteMs,
} from './invocation-overhead.js';
import { planCost } from './plan-cost.js';

const overhead = { kind: 'switchyard.invocation-overhead' as const, fixedMs: 2, perByteMs: 1e-5, points: [] };

describe('invocation overhead', () => {
  it('stretches like serial work: 1/share below one vCPU, unchanged above', () => {
    expect(invocationFixedMs(overhead, 1769)).toBeCloseTo(2, 12);
    expect(invocationFixedMs(overhead, 256)).toBeCloseTo((2 * 1769) / 256, 12);
    expect(invocationPerByteMs(overhead, 3008)).toBeCloseTo(1e-5, 15);
    expect(invocationOverheadMs(overhead, 100_000, 1769)).toBeCloseTo(3, 12);
    expect(invocationOverheadMs(undefined, 100_000, 256)).toBe(0);
  });

  it('fits fixed + per byte exactly from points on a line (property, fixed seed)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 20, noNaN: true }),
        fc.double({ min: 1e-7, max: 1e-3, noNaN: true }),
        fc.uniqueArray(fc.integer({ min: 1, max: 2_000_000 }), { minLength: 2, maxLength: 6 }),
        (fixedMs, perByteMs, sizes) => {
          const points = sizes.map((payloadBytes) => ({
            tokens: 1,
            payloadBytes,
            handlerMs: 0.5 + fixedMs + perByteMs * payloadBytes,
            computeMs: 0.5,
          }));
          const fit = fitInvocationOverhead(points);
          for (const p of points)
            expect(fit.fixedMs + fit.perByteMs * p.payloadBytes).toBeCloseTo(p.handlerMs - 0.5, 6);
        },
      ),
      { seed: 20261128, numRuns: 100 },
    );
  });

  it('never fits a negative part and needs two payload sizes', () => {
    const fit = fitInvocationOverhead([
      { tokens: 1, payloadBytes: 1000, handlerMs: 1, computeMs: 0 },
      { tokens: 2, payloadBytes: 2000, handlerMs: 3, computeMs: 0 },
    ]);
    expect(fit.fixedMs).toBe(0);
    expect(fit.perByteMs).toBeGreaterThan(0);
    expect(() =>
      fitInvocationOverhead([{ tokens: 1, payloadBytes: 1000, handlerMs: 1, computeMs: 0 }]),
    ).toThrow(/two distinct payload sizes/);
  });

  it('adds to each invocation of a plan: fixed + per wire byte, stretched at 256 MB', () => {
    // Direct, 1 replica, 1000 tokens of hidden 128 float32: 1000 × 128 × 4 bytes each way.
    const plan = makePlan([{ method: 'direct', beta: 1000, functions: [[256, 1, 1000]] }]);
    const without = planCost(plan, {}, { compute: flatComputeProfile, transport: handTransport });
    const withOverhead = planCost(
      plan,
      {},
      { compute: flatComputeProfile, transport: handTransport, invocationOverhead: overhead },
    );
    const added = (2 + 1e-5 * 2 * 1000 * 128 * 4) * (1769 / 256);
    expect(
      withOverhead.layers[0]!.functions[0]!.latencyMs - without.layers[0]!.functions[0]!.latencyMs,
    ).toBeCloseTo(added, 9);
  });
});
