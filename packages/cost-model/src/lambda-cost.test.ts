import { SwitchyardError } from '@switchyard/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  billedDurationMs,
  invocationUsd,
  lambdaCost,
  powerTuningCostUsd,
  tieredDurationUsd,
} from './lambda-cost.js';
import { resolveRates } from './price-table.js';

const cents = (usd: number): number => Math.round(usd * 100) / 100;

describe('lambdaCost', () => {
  it("reproduces AWS's pricing example: 512 MB, 3 M × 1 s → 1.5 M GB-s, $25.00 + $0.60", () => {
    const result = lambdaCost({ memoryMB: 512, durationMs: 1000, invocations: 3_000_000 });
    expect(result.gbSeconds).toBe(1_500_000);
    expect(cents(result.computeUsd)).toBe(25.0);
    expect(cents(result.requestUsd)).toBe(0.6);
    expect(cents(result.totalUsd)).toBe(25.6);
    expect(result.priceTableDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('subtracts the free tier (400,000 GB-s and 1 M requests) only when asked', () => {
    const result = lambdaCost({ memoryMB: 512, durationMs: 1000, invocations: 3_000_000, freeTier: true });
    expect(result.computeUsd).toBeCloseTo(1_100_000 * 0.0000166667, 9);
    expect(result.requestUsd).toBeCloseTo(2_000_000 * 0.0000002, 12);
    const small = lambdaCost({ memoryMB: 128, durationMs: 100, invocations: 1000, freeTier: true });
    expect(small.totalUsd).toBe(0);
  });

  it('rounds each invocation up to 1 ms', () => {
    expect(billedDurationMs(0.2)).toBe(1);
    expect(billedDurationMs(1)).toBe(1);
    expect(billedDurationMs(1.0001)).toBe(2);
    expect(billedDurationMs(12.000000000001)).toBe(12);
    expect(billedDurationMs(0)).toBe(0);
    const result = lambdaCost({ memoryMB: 1024, durationMs: 10.2, invocations: 1000 });
    expect(result.billedDurationMs).toBe(11);
    expect(result.gbSeconds).toBeCloseTo(11, 12);
  });

  it('bills INIT as duration on cold starts', () => {
    const warm = lambdaCost({ memoryMB: 1024, durationMs: 100, invocations: 10 });
    const cold = lambdaCost({
      memoryMB: 1024,
      durationMs: 100,
      invocations: 10,
      initDurationMs: 250.5,
      coldStarts: 2,
    });
    // 2 cold starts add ceil(100 + 250.5) − 100 = 251 ms each.
    expect(cold.gbSeconds - warm.gbSeconds).toBeCloseTo((2 * 251) / 1000, 12);
  });

  it('charges ephemeral storage above the included 512 MB', () => {
    const result = lambdaCost({
      memoryMB: 1024,
      durationMs: 1000,
      invocations: 1000,
      ephemeralStorageMB: 1536,
    });
    expect(result.storageUsd).toBeCloseTo(1 * 1000 * 0.0000000309, 15);
    expect(lambdaCost({ memoryMB: 1024, durationMs: 1000, invocations: 1000 }).storageUsd).toBe(0);
  });

  it('prices arm64 lower than x86_64', () => {
    const arm = lambdaCost({ memoryMB: 512, durationMs: 1000, invocations: 3_000_000, arch: 'arm64' });
    expect(arm.computeUsd).toBeCloseTo(1_500_000 * 0.0000133334, 9);
  });

  it('names the field on bad input', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ memoryMB: -1 }, 'memoryMB'],
      [{ memoryMB: 512.5 }, 'memoryMB'],
      [{ memoryMB: 127 }, 'memoryMB'],
      [{ memoryMB: 10_241 }, 'memoryMB'],
      [{ durationMs: -5 }, 'durationMs'],
      [{ invocations: 1.5 }, 'invocations'],
      [{ region: 'mars-north-1' }, 'region'],
      [{ arch: 'riscv' }, 'arch'],
      [{ ephemeralStorageMB: 100 }, 'ephemeralStorageMB'],
    ];
    for (const [override, field] of cases) {
      const input = { memoryMB: 512, durationMs: 1000, invocations: 10, ...override } as Parameters<
        typeof lambdaCost
      >[0];
      let caught: unknown;
      try {
        lambdaCost(input);
      } catch (error) {
        caught = error;
      }
      expect(SwitchyardError.isInstance(caught), field).toBe(true);
      expect((caught as SwitchyardError).code).toBe('INVALID_INPUT');
      expect((caught as SwitchyardError).location).toBe(field);
      expect((caught as Error).message).toContain(field);
    }
  });
});

describe('volume tiers', () => {
  const x86 = resolveRates({ arch: 'x86_64' });
  const arm = resolveRates({ arch: 'arm64' });

  it('charges the first 6 B GB-s at the base price and the next at −10 %, then −20 % above 15 B (x86)', () => {
    expect(tieredDurationUsd(6e9, x86)).toBeCloseTo(6e9 * 0.0000166667, 3);
    expect(tieredDurationUsd(1, x86, 6e9)).toBeCloseTo(0.000015, 12);
    expect(tieredDurationUsd(1, x86, 15e9)).toBeCloseTo(0.0000133334, 12);
    // Straddling the boundary: half below, half above.
    expect(tieredDurationUsd(2, x86, 6e9 - 1)).toBeCloseTo(0.0000166667 + 0.000015, 12);
    expect(tieredDurationUsd(16e9, x86)).toBeCloseTo(
      6e9 * 0.0000166667 + 9e9 * 0.000015 + 1e9 * 0.0000133334,
      1,
    );
  });

  it('uses the arm64 boundaries at 7.5 B and 18.75 B GB-s', () => {
    expect(tieredDurationUsd(1, arm, 7.5e9 - 1)).toBeCloseTo(0.0000133334, 12);
    expect(tieredDurationUsd(1, arm, 7.5e9)).toBeCloseTo(0.0000120001, 12);
    expect(tieredDurationUsd(1, arm, 18.75e9)).toBeCloseTo(0.0000106667, 12);
  });

  it('lambdaCost places a month in the tiers via gbSecondsAlreadyThisMonth', () => {
    const result = lambdaCost({
      memoryMB: 1024,
      durationMs: 1000,
      invocations: 1000,
      gbSecondsAlreadyThisMonth: 15e9,
    });
    expect(result.computeUsd).toBeCloseTo(1000 * 0.0000133334, 12);
  });
});

describe('fast paths', () => {
  const rates = resolveRates();
  it('invocationUsd matches lambdaCost for one invocation', () => {
    const full = lambdaCost({ memoryMB: 2048, durationMs: 123.4, invocations: 1 });
    expect(invocationUsd(2048, 123.4, rates)).toBeCloseTo(full.totalUsd, 15);
  });

  it('Power Tuning formula equals GB-s pricing without the request charge', () => {
    const full = lambdaCost({ memoryMB: 1536, durationMs: 200, invocations: 1 });
    expect(powerTuningCostUsd(1536, 200, rates)).toBeCloseTo(full.computeUsd, 15);
  });
});

describe('monotonicity (property)', () => {
  const params = { seed: 20261128, numRuns: 300 };
  const memory = fc.integer({ min: 128, max: 10_240 });
  const duration = fc.double({ min: 0, max: 900_000, noNaN: true });
  const invocations = fc.integer({ min: 0, max: 50_000_000 });
  const freeTier = fc.boolean();

  it('is monotone in memory', () => {
    fc.assert(
      fc.property(memory, memory, duration, invocations, freeTier, (a, b, d, n, free) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        const costLow = lambdaCost({ memoryMB: low, durationMs: d, invocations: n, freeTier: free }).totalUsd;
        const costHigh = lambdaCost({
          memoryMB: high,
          durationMs: d,
          invocations: n,
          freeTier: free,
        }).totalUsd;
        return costLow <= costHigh + 1e-12;
      }),
      params,
    );
  });

  it('is monotone in duration', () => {
    fc.assert(
      fc.property(memory, duration, duration, invocations, freeTier, (m, a, b, n, free) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        const costLow = lambdaCost({ memoryMB: m, durationMs: low, invocations: n, freeTier: free }).totalUsd;
        const costHigh = lambdaCost({
          memoryMB: m,
          durationMs: high,
          invocations: n,
          freeTier: free,
        }).totalUsd;
        return costLow <= costHigh + 1e-12;
      }),
      params,
    );
  });

  it('is monotone in invocations, also across tier boundaries', () => {
    fc.assert(
      fc.property(
        memory,
        duration,
        invocations,
        invocations,
        freeTier,
        fc.double({ min: 0, max: 2e10, noNaN: true }),
        (m, d, a, b, free, before) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          const input = { memoryMB: m, durationMs: d, freeTier: free, gbSecondsAlreadyThisMonth: before };
          const costLow = lambdaCost({ ...input, invocations: low }).totalUsd;
          const costHigh = lambdaCost({ ...input, invocations: high }).totalUsd;
          return costLow <= costHigh + 1e-9 * Math.max(1, costHigh);
        },
      ),
      params,
    );
  });
});
