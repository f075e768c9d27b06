import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  computeFixedMs,
  computePerTokenMs,
  computeSegment,
  computeTimeAtThreadsMs,
  computeTimeMs,
  shareFactor,
} from './compute-curve.js';
import { type ComputePoint, parseComputeProfile } from './compute-profile.js';
import { fitComputeProfile, fitLine, linearSummary } from './fit-compute-profile.js';

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

  it('keeps the measurements as one curve per thread count', () => {
    expect(profile.version).toBe(2);
    expect(profile.curves.map((c) => c.threads)).toEqual([1, 2]);
    expect(profile.curves[1]!.knots).toEqual(
      [16, 64, 256, 1024].map((tokens) => ({ tokens, durationMs: syntheticMs(tokens, 2) })),
    );
    const summary = linearSummary(profile, 1);
    expect(summary.fixedMs).toBeCloseTo(0.5, 9);
    expect(summary.perTokenMs).toBeCloseTo(0.02, 12);
  });

  it('reproduces the measured thread counts between knots and extrapolates Amdahl per knot', () => {
    for (const tokens of [16, 40, 512, 1024, 3000]) {
      expect(computeTimeAtThreadsMs(profile, tokens, 1)).toBeCloseTo(syntheticMs(tokens, 1), 9);
      expect(computeTimeAtThreadsMs(profile, tokens, 2)).toBeCloseTo(syntheticMs(tokens, 2), 9);
      // Both parts follow Amdahl, so s + q/v through the 1- and 2-thread knots is exact at 4 and 1.5.
      expect(computeTimeAtThreadsMs(profile, tokens, 4)).toBeCloseTo(syntheticMs(tokens, 4), 9);
      expect(computeTimeAtThreadsMs(profile, tokens, 1.5)).toBeCloseTo(syntheticMs(tokens, 1.5), 9);
    }
  });

  it('maps memory to a CPU share: 1,769 MB = one thread, half of that = twice the time', () => {
    expect(computeTimeMs(profile, 100, 1769)).toBeCloseTo(syntheticMs(100, 1), 9);
    expect(computeTimeMs(profile, 100, 3538)).toBeCloseTo(syntheticMs(100, 2), 9);
    expect(computeTimeMs(profile, 100, 1769 / 2)).toBeCloseTo(2 * syntheticMs(100, 1), 6);
    expect(computeTimeMs(profile, 0, 1769)).toBe(0);
  });

  it('gives the local line the latency equations use: fixed + r·t_cal is the curve at r', () => {
    expect(computePerTokenMs(profile, 1769, 100)).toBeCloseTo(0.02, 12);
    expect(computeFixedMs(profile, 1769, 100)).toBeCloseTo(0.5, 9);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20_000 }),
        fc.integer({ min: 128, max: 10_240 }),
        (tokens, memoryMB) => {
          const line = computeSegment(profile, memoryMB, tokens);
          const time = computeTimeMs(profile, tokens, memoryMB);
          return Math.abs(line.fixedMs + line.perTokenMs * tokens - time) <= 1e-9 * time;
        },
      ),
      { seed: 5, numRuns: 200 },
    );
  });

  it('is a valid profile JSON and survives a round trip', () => {
    expect(parseComputeProfile(JSON.parse(JSON.stringify(profile)))).toEqual(profile);
    expect(() => parseComputeProfile({ ...profile, curves: [] })).toThrow(/curves/);
    expect(() =>
      parseComputeProfile({ ...profile, curves: [{ threads: 2, knots: profile.curves[1]!.knots }] }),
    ).toThrow(/threads = 1/);
    expect(() =>
      parseComputeProfile({
        ...profile,
        curves: [
          {
            threads: 1,
            knots: [
              { tokens: 64, durationMs: 1 },
              { tokens: 16, durationMs: 2 },
            ],
          },
        ],
      }),
    ).toThrow(/curves\.0\.knots\.1\.tokens/);
  });

  it('refuses a version 1 profile with a clear hint, naming the field', () => {
    const v1 = { ...profile, version: 1, fits: [{ threads: 1, fixedMs: 0.1, perTokenMs: 0.01 }] };
    expect(() => parseComputeProfile(v1, 'old.json')).toThrow(
      /old\.json: version 1 is not supported.*Regenerate/,
    );
    try {
      parseComputeProfile(v1, 'old.json');
    } catch (error) {
      expect((error as { location?: string }).location).toBe('old.json.version');
    }
  });

  it('with one thread count only, credits no parallel return', () => {
    const single = fitComputeProfile(
      points.filter((p) => p.threads === 1),
      meta,
    );
    expect(computeTimeMs(single, 100, 3538)).toBeCloseTo(syntheticMs(100, 1), 9);
    expect(computeTimeAtThreadsMs(single, 100, 6)).toBeCloseTo(syntheticMs(100, 1), 9);
  });

  it('where more threads were slower, charges a coordination cost linear in threads', () => {
    // 10 tokens: 0.12 ms at one thread, 0.16 at two (thread-pool sync); 1,000 tokens: 2.1 → 1.15.
    const profile = fitComputeProfile(
      [
        { threads: 1, tokens: 10, durationMs: 0.12 },
        { threads: 1, tokens: 1000, durationMs: 2.1 },
        { threads: 2, tokens: 10, durationMs: 0.16 },
        { threads: 2, tokens: 1000, durationMs: 1.15 },
      ],
      meta,
    );
    expect(computeTimeAtThreadsMs(profile, 10, 2)).toBeCloseTo(0.16, 9);
    expect(computeTimeAtThreadsMs(profile, 10, 1.5)).toBeCloseTo(0.14, 9);
    expect(computeTimeAtThreadsMs(profile, 10, 3)).toBeCloseTo(0.2, 9);
    // 1,000 tokens: Amdahl through 2.1 and 1.15 → s = 0.2, q = 1.9.
    expect(computeTimeAtThreadsMs(profile, 1000, 4)).toBeCloseTo(0.2 + 1.9 / 4, 9);
    expect(shareFactor(3, 0, 0.5)).toBe(2);
  });

  it('follows a measured bend instead of a straight line', () => {
    // Two threads barely help small calls and halve big ones: no single line fits both ends.
    const bent = fitComputeProfile(
      [
        { threads: 1, tokens: 16, durationMs: 0.1 },
        { threads: 1, tokens: 256, durationMs: 0.4 },
        { threads: 1, tokens: 2048, durationMs: 2.8 },
        { threads: 2, tokens: 16, durationMs: 0.11 },
        { threads: 2, tokens: 256, durationMs: 0.4 },
        { threads: 2, tokens: 2048, durationMs: 1.6 },
      ],
      meta,
    );
    expect(computeTimeAtThreadsMs(bent, 136, 2)).toBeCloseTo(0.255, 9);
    expect(computeTimeAtThreadsMs(bent, 1152, 2)).toBeCloseTo(1.0, 9);
    expect(computeTimeAtThreadsMs(bent, 4096, 2)).toBeCloseTo(1.6 + (1.2 / 1792) * 2048, 9);
  });

  it('rejects unusable measurements with the field', () => {
    expect(() => fitComputeProfile([{ threads: 2, tokens: 10, durationMs: 1 }], meta)).toThrow(/threads = 1/);
    expect(() => fitLine([{ tokens: 10, durationMs: 1 }])).toThrow(/two distinct token counts/);
    expect(() => fitComputeProfile([{ threads: 1, tokens: 10, durationMs: 1 }], meta)).toThrow(
      /two distinct token counts/,
    );
    expect(() => fitComputeProfile([{ threads: 1, tokens: -1, durationMs: 1 }], meta)).toThrow(/points\.0/);
  });

  it('summarises through the origin instead of a negative fixed cost', () => {
    const fit = fitLine([
      { tokens: 10, durationMs: 0.9 },
      { tokens: 20, durationMs: 2.1 },
    ]);
    expect(fit.fixedMs).toBe(0);
    expect(fit.perTokenMs).toBeGreaterThan(0);
  });
});
