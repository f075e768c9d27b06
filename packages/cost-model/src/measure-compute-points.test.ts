import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkComputeProfile } from './check-compute-profile.js';
import { fitComputeProfile } from './fit-compute-profile.js';
import { combineProcessPoints, measureComputePoints } from './measure-compute-points.js';

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
