import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BreakEven,
  type BreakEvenPoint,
  breakEven,
  saving,
  savingCurve,
  serverlessBill,
} from './saving-curve.js';
import { summarizeTraffic } from './traffic.js';
import { poissonTraffic } from './traffic-poisson.js';

const point = (x: number, value: number, utilization = x / 10): BreakEvenPoint => ({
  x,
  batchesPerS: 2 * x,
  forwardTokensPerS: 2 * x * 10_240,
  utilization,
  saving: value,
});

describe('breakEven', () => {
  it('interpolates the first sign change on every axis', () => {
    const result = breakEven([point(1, 0.5), point(2, 0.25), point(4, -0.25), point(8, -1)]);
    expect(result).toMatchObject({ kind: 'crossing', direction: 'serverless-cheaper-below', crossings: 1 });
    if (result.kind !== 'crossing') return;
    // Between (2, +0.25) and (4, −0.25): half-way.
    expect(result.x).toBeCloseTo(3, 12);
    expect(result.batchesPerS).toBeCloseTo(6, 12);
    expect(result.forwardTokensPerS).toBeCloseTo(6 * 10_240, 9);
    expect(result.utilization).toBeCloseTo(0.3, 12);
  });

  it('says always or never when the range holds no crossing, and which way a crossing goes', () => {
    expect(breakEven([point(1, 0.2), point(2, 0.1)])).toEqual({ kind: 'always' });
    expect(breakEven([point(1, -0.2), point(2, 0)])).toEqual({ kind: 'never' });
    expect(breakEven([point(1, 0.3)])).toEqual({ kind: 'always' });
    const upward = breakEven([point(1, -1), point(2, 1), point(3, -1)]);
    expect(upward).toMatchObject({
      kind: 'crossing',
      direction: 'serverless-cheaper-above',
      x: 1.5,
      crossings: 2,
    });
  });

  it('refuses points out of order', () => {
    expect(() => breakEven([point(2, 0), point(1, 0)])).toThrow(/x must increase/);
    expect(() => breakEven([])).toThrow(/at least one point/);
  });

  it("moves no later when Switchyard's bill grows (break-even monotonicity)", () => {
    // Where Switchyard stops being cheaper: +∞ if always, −∞ if it is not cheaper at the start.
    const stopsBeingCheaper = (result: BreakEven): number =>
      result.kind === 'always'
        ? Number.POSITIVE_INFINITY
        : result.kind === 'never' || result.direction === 'serverless-cheaper-above'
          ? Number.NEGATIVE_INFINITY
          : result.x;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            serverless: fc.double({ min: 0.01, max: 100, noNaN: true }),
            baseline: fc.double({ min: 0.01, max: 100, noNaN: true }),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        fc.double({ min: 1, max: 5, noNaN: true }),
        (bills, factor) => {
          const curve = (k: number) =>
            breakEven(bills.map((bill, i) => point(i + 1, saving(k * bill.serverless, bill.baseline))));
          expect(stopsBeingCheaper(curve(factor))).toBeLessThanOrEqual(stopsBeingCheaper(curve(1)));
        },
      ),
      { seed: 71, numRuns: 500 },
    );
  });
});

describe('saving', () => {
  it('is the share of the baseline saved, and handles a free baseline', () => {
    expect(saving(25, 100)).toBe(0.75);
    expect(saving(150, 100)).toBe(-0.5);
    expect(saving(0, 0)).toBe(0);
    expect(saving(1, 0)).toBe(Number.NEGATIVE_INFINITY);
  });
});

const sizes = [
  { promptTokens: 2000, outputTokens: 50 },
  { promptTokens: 400, outputTokens: 300 },
];

describe('serverlessBill', () => {
  it('prices each batch on its own token count (partial batches at their own price)', () => {
    const traffic = poissonTraffic({ requestsPerS: 2, durationS: 600, sizes, seed: 3 });
    const calls: number[] = [];
    const bill = serverlessBill(traffic, {
      tokensPerBatch: 10_240,
      maxWaitS: 10,
      usdForBatch: (tokens) => {
        calls.push(tokens);
        return 0.001 + tokens * 1e-7;
      },
    });
    const total = summarizeTraffic(traffic).forwardTokens;
    expect(bill.usd).toBeCloseTo(bill.batches * 0.001 + total * 1e-7, 9);
    expect(bill.partialBatches).toBeGreaterThan(0);
    expect(bill.batchWait.maxS).toBeLessThanOrEqual(10);
    // Memoised per distinct token count.
    expect(new Set(calls).size).toBe(calls.length);
    expect(() => serverlessBill(traffic, { usdForBatch: () => Number.NaN })).toThrow(/usdForBatch/);
  });
});

describe('savingCurve', () => {
  const trafficAt = (x: number) => poissonTraffic({ requestsPerS: x, durationS: 1800, sizes, seed: 11 });
  const cpu = { tokensPerVcpuSecond: 400, vcpusPerInstance: 8, engine: 'hand' };

  it('against the right-sized pool is flat when both bills are per token', () => {
    // Serverless at exactly 1.5× the pool's $ per token: a saving of −0.5 at every rate.
    const poolUsdPerToken = 5.5296 / 128 / 3600 / 400;
    const curve = savingCurve({
      xs: [0.1, 0.5, 2, 8],
      trafficAt,
      serverless: { usdForBatch: (tokens) => 1.5 * tokens * poolUsdPerToken },
      cpu,
    });
    for (const p of curve.points) expect(p.saving.rightSized).toBeCloseTo(-0.5, 9);
    expect(curve.breakEven.rightSized).toEqual({ kind: 'never' });
  });

  it('against the static cluster wins at low load and loses at high load, and says where', () => {
    // Per-token serverless at 2.5× the pool's price; the static cluster idles at low rates.
    const poolUsdPerToken = 5.5296 / 128 / 3600 / 400;
    const xs = [0.05, 0.1, 0.2, 0.5, 1, 2, 4, 8];
    const curve = savingCurve({
      xs,
      trafficAt,
      serverless: { usdForBatch: (tokens) => 2.5 * tokens * poolUsdPerToken, label: 'hand' },
      cpu,
    });
    expect(curve.points.map((p) => p.x)).toEqual(xs);
    expect(curve.points[0]!.saving.static).toBeGreaterThan(0);
    expect(curve.points.at(-1)!.saving.static).toBeLessThan(0);
    const result = curve.breakEven.static;
    expect(result.kind).toBe('crossing');
    if (result.kind !== 'crossing') return;
    expect(result.direction).toBe('serverless-cheaper-below');
    // Per-token serverless at 2.5× the vCPU price breaks even where the cluster is busy 1/2.5 of its time.
    expect(result.utilization).toBeGreaterThan(0.25);
    expect(result.utilization).toBeLessThan(0.55);
    // The autoscaled cluster idles less than the static one, so its break-even comes no later.
    const autoscaled = curve.breakEven.autoscaled;
    expect(autoscaled.kind === 'crossing' ? autoscaled.x : Number.NEGATIVE_INFINITY).toBeLessThanOrEqual(
      result.x,
    );
    for (const p of curve.points) {
      expect(p.serverless.label).toBe('hand');
      expect(p.cpu.static.utilization).toBeLessThanOrEqual(1);
      expect(p.traffic.batchesPerS).toBeCloseTo(p.traffic.forwardTokensPerS / 10_240, 12);
    }
  });
});
