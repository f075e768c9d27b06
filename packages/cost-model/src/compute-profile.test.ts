import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ComputePoint,
  computePerTokenMs,
  computeTimeAtThreadsMs,
  computeTimeMs,
  fitComputeProfile,
  fitLine,
  measureComputePoints,
  parseComputeProfile,
  shareFactor,
} from './compute-profile.js';

const meta = {
  subject: { model: 'synthetic' },
  machine: { description: 'test', logicalCpus: 2 },
  createdAt: '2026-11-28',
};

/** A synthetic expert: 0.5 ms fixed (40 % parallel), 0.02 ms/token (90 % parallel). */
function syntheticMs(tokens: number, threads: number): number {
  const fixed = 0.5 * (0.6 + 0.4 / threads);
  const perToken = 0.02 * (0.1 + 0.9 / threads);
  return fixed + perToken * tokens;
}

describe('fitComputeProfile', () => {
  const points: ComputePoint[] = [];
  for (const threads of [1, 2])
    for (const tokens of [16, 64, 256, 1024])
      points.push({ threads, tokens, durationMs: syntheticMs(tokens, threads) });
  const profile = fitComputeProfile(points, meta);

  it('recovers the fixed and per-token parts at each thread count', () => {
    expect(profile.fits[0]).toMatchObject({ threads: 1 });
    expect(profile.fits[0]!.fixedMs).toBeCloseTo(0.5, 9);
    expect(profile.fits[0]!.perTokenMs).toBeCloseTo(0.02, 12);
    expect(profile.fits[1]!.perTokenMs).toBeCloseTo(0.02 * 0.55, 12);
  });

  it('fits the Amdahl fractions from the measured 1→2 thread return', () => {
    expect(profile.scaling.measured).toBe(true);
    expect(profile.scaling.parallelFractionFixed).toBeCloseTo(0.4, 9);
    expect(profile.scaling.parallelFractionPerToken).toBeCloseTo(0.9, 9);
    // Reproduces the measured thread counts and extrapolates with the same law.
    expect(computeTimeAtThreadsMs(profile, 512, 2)).toBeCloseTo(syntheticMs(512, 2), 9);
    expect(computeTimeAtThreadsMs(profile, 512, 4)).toBeCloseTo(syntheticMs(512, 4), 9);
  });

  it('maps memory to a CPU share: 1,769 MB = one thread, half of that = twice the time', () => {
    expect(computeTimeMs(profile, 100, 1769)).toBeCloseTo(syntheticMs(100, 1), 9);
    expect(computeTimeMs(profile, 100, 3538)).toBeCloseTo(syntheticMs(100, 2), 9);
    expect(computeTimeMs(profile, 100, 1769 / 2)).toBeCloseTo(2 * syntheticMs(100, 1), 6);
    expect(computeTimeMs(profile, 0, 1769)).toBe(0);
  });

  it('is a valid profile JSON and survives a round trip', () => {
    expect(parseComputeProfile(JSON.parse(JSON.stringify(profile)))).toEqual(profile);
    expect(() => parseComputeProfile({ ...profile, fits: [] })).toThrow(/fits/);
    expect(() =>
      parseComputeProfile({ ...profile, fits: [{ threads: 2, fixedMs: 0, perTokenMs: 1 }] }),
    ).toThrow(/threads = 1/);
  });

  it('with one thread count only, credits no parallel return', () => {
    const single = fitComputeProfile(
      points.filter((p) => p.threads === 1),
      meta,
    );
    expect(single.scaling).toMatchObject({
      measured: false,
      parallelFractionFixed: 0,
      parallelFractionPerToken: 0,
    });
    expect(computeTimeMs(single, 100, 3538)).toBeCloseTo(syntheticMs(100, 1), 9);
  });

  it('fits a coordination cost per thread when a part got slower with more threads', () => {
    // Fixed part 0.1 ms at one thread, 0.15 ms at two (thread-pool sync); per-token part halves.
    const profile = fitComputeProfile(
      [
        { threads: 1, tokens: 10, durationMs: 0.1 + 10 * 0.002 },
        { threads: 1, tokens: 1000, durationMs: 0.1 + 1000 * 0.002 },
        { threads: 2, tokens: 10, durationMs: 0.15 + 10 * 0.001 },
        { threads: 2, tokens: 1000, durationMs: 0.15 + 1000 * 0.001 },
      ],
      meta,
    );
    expect(profile.scaling.parallelFractionFixed).toBe(0);
    expect(profile.scaling.overheadPerThreadFixed).toBeCloseTo(0.5, 9);
    expect(profile.scaling.overheadPerThreadPerToken).toBe(0);
    expect(profile.scaling.parallelFractionPerToken).toBeCloseTo(1, 9);
    expect(computeTimeAtThreadsMs(profile, 10, 2)).toBeCloseTo(0.16, 9);
    expect(computeTimeAtThreadsMs(profile, 10, 1)).toBeCloseTo(0.12, 9);
    expect(shareFactor(3, 0, 0.5)).toBe(2);
  });

  it('rejects unusable measurements with the field', () => {
    expect(() => fitComputeProfile([{ threads: 2, tokens: 10, durationMs: 1 }], meta)).toThrow(/threads = 1/);
    expect(() => fitLine([{ tokens: 10, durationMs: 1 }])).toThrow(/two distinct token counts/);
    expect(() => fitComputeProfile([{ threads: 1, tokens: -1, durationMs: 1 }], meta)).toThrow(/points\.0/);
  });

  it('refits through the origin instead of predicting a negative fixed cost', () => {
    const fit = fitLine([
      { tokens: 10, durationMs: 0.9 },
      { tokens: 20, durationMs: 2.1 },
    ]);
    expect(fit.fixedMs).toBe(0);
    expect(fit.perTokenMs).toBeGreaterThan(0);
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

  it('t_cal falls (or stays) as memory grows', () => {
    const profile = fitComputeProfile(
      [
        { threads: 1, tokens: 10, durationMs: 1 },
        { threads: 1, tokens: 100, durationMs: 5 },
        { threads: 2, tokens: 10, durationMs: 0.8 },
        { threads: 2, tokens: 100, durationMs: 3 },
      ],
      meta,
    );
    let previous = Number.POSITIVE_INFINITY;
    for (let memoryMB = 128; memoryMB <= 10_240; memoryMB += 128) {
      const value = computePerTokenMs(profile, memoryMB);
      expect(value).toBeLessThanOrEqual(previous);
      previous = value;
    }
  });
});

describe('measureComputePoints', () => {
  it('calls runExpert per (threads, tokens), warms up, and keeps the median', async () => {
    const calls: Array<[number, number]> = [];
    let call = 0;
    const durations = [100, 5, 1, 3]; // warm-up 100 ignored; median of 5, 1, 3 is 3
    const points = await measureComputePoints({
      runExpert: async (tokens, threads) => {
        calls.push([tokens, threads]);
        return durations[call++ % durations.length]!;
      },
      tokenCounts: [8],
      threadCounts: [1],
      repetitions: 3,
      warmup: 1,
    });
    expect(calls).toHaveLength(4);
    expect(points).toEqual([{ threads: 1, tokens: 8, durationMs: 3, repetitions: 3 }]);
  });

  it('keeps the minimum when asked (contention only adds time)', async () => {
    let call = 0;
    const durations = [9, 4, 2, 7];
    const points = await measureComputePoints({
      runExpert: async () => durations[call++]!,
      tokenCounts: [8],
      threadCounts: [2],
      repetitions: 3,
      warmup: 1,
      statistic: 'min',
    });
    expect(points).toEqual([{ threads: 2, tokens: 8, durationMs: 2, repetitions: 3, statistic: 'min' }]);
  });

  it('interleaves cells, shuffles each round, and samples unsettled cells until their fastest runs agree', async () => {
    const calls: number[] = [];
    // tokens 8 is noisy until its 6th run; tokens 16 is steady.
    const noisy = [50, 40, 30, 20, 10, 10, 10, 10, 10];
    let noisyCall = 0;
    let state = 1;
    const points = await measureComputePoints({
      runExpert: async (tokens) => {
        calls.push(tokens);
        return tokens === 8 ? noisy[noisyCall++]! : 5;
      },
      tokenCounts: [8, 16],
      threadCounts: [1],
      repetitions: 3,
      warmup: 0,
      statistic: 'min',
      interleave: true,
      maxRepetitions: 20,
      stableFraction: 0.05,
      random: () => {
        state = (state * 16807) % 2147483647;
        return state / 2147483647;
      },
    });
    expect(points.find((p) => p.tokens === 16)).toMatchObject({ durationMs: 5, repetitions: 3 });
    // Settles once three runs of 10 ms exist: runs 5, 6 and 7.
    expect(points.find((p) => p.tokens === 8)).toMatchObject({ durationMs: 10, repetitions: 7 });
    expect(calls.filter((t) => t === 8)).toHaveLength(7);
    // The first three rounds hold both cells, in some order.
    expect(new Set(calls.slice(0, 2))).toEqual(new Set([8, 16]));
  });
});
