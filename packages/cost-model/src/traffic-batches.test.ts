import { quantile } from '@switchyard/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { handTraffic } from '../test/fixtures.js';
import { forwardTokens } from './traffic.js';
import { batchTraffic, peakPerS, sortedQuantile, summarizeWaits } from './traffic-batches.js';

const stream = handTraffic;

const arbitraryStream = fc
  .tuple(
    fc.array(
      fc.tuple(
        fc.double({ min: 0, max: 99.999, noNaN: true }),
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 50 }),
      ),
      { maxLength: 60 },
    ),
  )
  .map(([requests]) =>
    stream(
      [...requests].sort((a, b) => a[0] - b[0]),
      100,
    ),
  );

describe('batchTraffic', () => {
  it('fills batches in arrival order, splits a request across batches and flushes the last at the window end', () => {
    // Batches of 100 tokens; forward tokens: 60, 70 (prompt 61, output 10 → 70), 30, 250.
    const traffic = stream(
      [
        [1, 60, 1],
        [2, 61, 10],
        [4, 30, 0],
        [9, 250, 1],
      ],
      20,
    );
    const batches = batchTraffic(traffic, { tokensPerBatch: 100 });
    expect(Array.from(batches.tokens)).toEqual([100, 100, 100, 100, 10]);
    // The second request completes batch 1 at t = 2; the third completes batch 2 at t = 9 together with
    // 70 of the fourth's tokens, which also fills batches 3 and 4 at t = 9; 10 tokens wait for the end.
    expect(Array.from(batches.dispatchS)).toEqual([2, 9, 9, 9, 20]);
    expect(batches.fullBatches).toBe(4);
    expect(batches.partialBatches).toBe(1);
    // Waits: request 1 → 1 s (batch 1 at t = 2), request 2 → 7 s (its last token is in batch 2),
    // request 3 → 5 s, request 4 → 11 s (its last tokens go out at the window end).
    expect(batches.requestWait.maxS).toBe(11);
    expect(batches.requestWait.meanS).toBe((1 + 7 + 5 + 11) / 4);
  });

  it('sends a batch out partial once its first token has waited maxWaitS', () => {
    const traffic = stream(
      [
        [0, 40, 1],
        [1, 40, 1],
        [7, 40, 1],
      ],
      20,
    );
    const batches = batchTraffic(traffic, { tokensPerBatch: 100, maxWaitS: 5 });
    expect(Array.from(batches.tokens)).toEqual([80, 40]);
    expect(Array.from(batches.dispatchS)).toEqual([5, 12]);
    expect(batches.requestWait.maxS).toBe(5);
  });

  it('keeps every token, never overfills, and holds no request longer than maxWaitS', () => {
    fc.assert(
      fc.property(
        arbitraryStream,
        fc.integer({ min: 1, max: 400 }),
        fc.option(fc.double({ min: 0.01, max: 50, noNaN: true }), { nil: undefined }),
        (traffic, tokensPerBatch, maxWaitS) => {
          const batches = batchTraffic(traffic, { tokensPerBatch, maxWaitS });
          let total = 0;
          for (let i = 0; i < traffic.arrivalS.length; i++)
            total += forwardTokens(traffic.promptTokens[i]!, traffic.outputTokens[i]!);
          expect(batches.tokens.reduce((a, b) => a + b, 0)).toBe(total);
          expect(batches.tokens.every((t) => t > 0 && t <= tokensPerBatch)).toBe(true);
          expect(
            batches.dispatchS.every(
              (t, i) => t <= traffic.durationS && (i === 0 || t >= batches.dispatchS[i - 1]!),
            ),
          ).toBe(true);
          if (maxWaitS === undefined) {
            expect(batches.fullBatches).toBe(Math.floor(total / tokensPerBatch));
            expect(batches.partialBatches).toBe(total % tokensPerBatch === 0 ? 0 : 1);
          } else expect(batches.requestWait.maxS).toBeLessThanOrEqual(maxWaitS + 1e-9);
        },
      ),
      { seed: 41, numRuns: 300 },
    );
  });

  it('names a bad option', () => {
    const traffic = stream([[0, 1, 1]], 1);
    expect(() => batchTraffic(traffic, { tokensPerBatch: 0 })).toThrow(/tokensPerBatch/);
    expect(() => batchTraffic(traffic, { maxWaitS: 0 })).toThrow(/maxWaitS/);
  });
});

describe('peakPerS', () => {
  it('is the busiest window of a brute-force scan over window starts', () => {
    fc.assert(
      fc.property(arbitraryStream, fc.double({ min: 0.5, max: 150, noNaN: true }), (traffic, windowS) => {
        const amount = (i: number) => traffic.promptTokens[i]!;
        const window = Math.min(windowS, traffic.durationS);
        let best = 0;
        for (let s = 0; s < traffic.arrivalS.length; s++) {
          let sum = 0;
          for (let i = 0; i < traffic.arrivalS.length; i++) {
            const t = traffic.arrivalS[i]!;
            if (t >= traffic.arrivalS[s]! && t < traffic.arrivalS[s]! + window) sum += amount(i);
          }
          best = Math.max(best, sum);
        }
        expect(peakPerS(traffic, windowS, amount)).toBeCloseTo(best / window, 9);
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe('summarizeWaits', () => {
  it('reports nearest-rank quantiles and zeros for no waits', () => {
    const waits = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect(summarizeWaits(waits)).toEqual({
      count: 100,
      meanS: 50.5,
      p50S: 50,
      p95S: 95,
      p99S: 99,
      maxS: 100,
    });
    expect(summarizeWaits([])).toEqual({ count: 0, meanS: 0, p50S: 0, p95S: 0, p99S: 0, maxS: 0 });
  });

  it("reads the same quantiles as core's quantile", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e4, noNaN: true }), { minLength: 1, maxLength: 200 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (values, q) => {
          const sorted = Float64Array.from(values).sort();
          expect(sortedQuantile(sorted, q)).toBe(quantile(values, q));
        },
      ),
      { seed: 43, numRuns: 500 },
    );
  });
});
