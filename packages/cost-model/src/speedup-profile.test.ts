import { describe, expect, it } from 'vitest';
import { computeTimeAtThreadsMs } from './compute-curve.js';
import { fitComputeProfile } from './fit-compute-profile.js';
import { withThreadSpeedup } from './speedup-profile.js';

const profile = fitComputeProfile(
  [
    { threads: 1, tokens: 100, durationMs: 7 },
    { threads: 1, tokens: 1000, durationMs: 52 },
    { threads: 2, tokens: 100, durationMs: 6 },
    { threads: 2, tokens: 1000, durationMs: 43 },
  ],
  {
    subject: { model: 'tiny' },
    machine: { description: 'test', logicalCpus: 2 },
    createdAt: '2026-12-06T00:00:00Z',
  },
);

describe('withThreadSpeedup', () => {
  it('replaces the 2-thread curve by the 1-thread curve ÷ the speed-up and says so', () => {
    const assumed = withThreadSpeedup(profile, 2, 1.8);
    for (const tokens of [100, 400, 1000])
      expect(computeTimeAtThreadsMs(assumed, tokens, 2)).toBeCloseTo(
        computeTimeAtThreadsMs(profile, tokens, 1) / 1.8,
        9,
      );
    // The measured one-thread curve is kept; the measured 2-thread points are not passed off as its.
    expect(computeTimeAtThreadsMs(assumed, 400, 1)).toBe(computeTimeAtThreadsMs(profile, 400, 1));
    expect(assumed.points.every((point) => point.threads === 1)).toBe(true);
    expect(assumed.measurement).toMatch(/÷ 1.8 \(an assumption, not a measurement\)/);
    // Shares between 1 and 2 vCPUs follow from the two curves (Lambda's 3,008 MB = 1.70 vCPUs).
    expect(computeTimeAtThreadsMs(assumed, 1000, 1.7)).toBeLessThan(
      computeTimeAtThreadsMs(profile, 1000, 1.7),
    );
  });

  it('refuses a speed-up beyond the thread count and a thread count below 2', () => {
    expect(() => withThreadSpeedup(profile, 2, 2.5)).toThrow(/speedup/);
    expect(() => withThreadSpeedup(profile, 1, 1)).toThrow(/threads/);
  });
});
