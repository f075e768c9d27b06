import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ComputePoint,
  checkComputeProfile,
  combineProcessPoints,
  computeCurveAt,
  computeFixedMs,
  computePerTokenMs,
  computeSegment,
  computeTimeAtThreadsMs,
  computeTimeMs,
  curveSegment,
  curveValueMs,
  fitComputeProfile,
  fitLine,
  linearSummary,
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

  it('records the median and 90th percentile when asked', async () => {
    let call = 0;
    const durations = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const [point] = await measureComputePoints({
      runExpert: async () => durations[call++]!,
      tokenCounts: [8],
      threadCounts: [1],
      repetitions: 10,
      warmup: 0,
      statistic: 'min',
      spread: true,
    });
    expect(point).toMatchObject({ durationMs: 1, medianMs: 5.5, p90Ms: 9 });
  });

  it('stops sampling unsettled cells at the time budget', async () => {
    let call = 0;
    const points = await measureComputePoints({
      runExpert: async () => 10 + (call++ % 2) * 5, // odd and even runs never agree
      tokenCounts: [8],
      threadCounts: [1],
      repetitions: 2,
      warmup: 0,
      statistic: 'min',
      interleave: true,
      maxRepetitions: 1_000_000,
      stableFraction: 0.01,
      maxDurationMs: 0,
    });
    expect(points[0]!.repetitions).toBe(2);
  });

  it('interleaves cells, shuffles each round, and samples unsettled cells until their odd- and even-run minima agree', async () => {
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
    // Settles once the odd and the even runs both reached 10 ms: runs 5 and 6.
    expect(points.find((p) => p.tokens === 8)).toMatchObject({ durationMs: 10, repetitions: 6 });
    expect(calls.filter((t) => t === 8)).toHaveLength(6);
    // The first three rounds hold both cells, in some order.
    expect(new Set(calls.slice(0, 2))).toEqual(new Set([8, 16]));
  });
});

describe('combineProcessPoints and checkComputeProfile', () => {
  it('keeps per cell the median over processes and sums repetitions', () => {
    const cell = (threads: number, tokens: number, durationMs: number) => ({
      threads,
      tokens,
      durationMs,
      repetitions: 10,
      medianMs: durationMs * 1.2,
    });
    const combined = combineProcessPoints([
      [cell(1, 16, 1), cell(1, 64, 4)],
      [cell(1, 16, 3), cell(1, 64, 2)],
      [cell(1, 16, 2), cell(1, 64, 9)],
    ]);
    expect(combined.map((p) => [p.threads, p.tokens, p.durationMs, p.repetitions])).toEqual([
      [1, 16, 2, 30],
      [1, 64, 4, 30],
    ]);
    expect(combined[0]!.medianMs).toBeCloseTo(2.4);
    expect(() => combineProcessPoints([])).toThrow(/at least one process/);
  });

  it('is the identity for one process, and ignores process order (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.01, max: 100, noNaN: true }), { minLength: 1, maxLength: 7 }),
        (durations) => {
          const processes = durations.map((durationMs) => [{ threads: 1, tokens: 8, durationMs }]);
          const forward = combineProcessPoints(processes)[0]!.durationMs;
          const backward = combineProcessPoints([...processes].reverse())[0]!.durationMs;
          expect(forward).toBe(backward);
          expect(forward).toBeGreaterThanOrEqual(Math.min(...durations));
          expect(forward).toBeLessThanOrEqual(Math.max(...durations));
          if (durations.length === 1) expect(forward).toBe(durations[0]);
        },
      ),
    );
  });

  it('reports each cell against the profile and the worst error per thread count', () => {
    const profile = fitComputeProfile(
      [
        { threads: 1, tokens: 16, durationMs: 1 },
        { threads: 1, tokens: 32, durationMs: 2 },
        { threads: 2, tokens: 16, durationMs: 1 },
        { threads: 2, tokens: 32, durationMs: 1.5 },
      ],
      { subject: { model: 'test' }, machine: { description: 'test', logicalCpus: 2 } },
    );
    const { rows, maxAbsErrorPctByThreads } = checkComputeProfile(profile, [
      { threads: 1, tokens: 24, durationMs: 1.25 },
      { threads: 2, tokens: 24, durationMs: 1.25 },
    ]);
    expect(rows[0]!.predictedMs).toBeCloseTo(1.5);
    expect(rows[0]!.errorPct).toBeCloseTo(20);
    expect(maxAbsErrorPctByThreads[1]).toBeCloseTo(20);
    expect(maxAbsErrorPctByThreads[2]).toBeCloseTo(0);
  });
});
