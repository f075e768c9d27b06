import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultPriceTable, type PriceTable, resolveRates } from './price-table.js';
import {
  bestProvisionedConcurrency,
  erlangB,
  provisionedConcurrencyUsdPerHour,
  provisionedReplicaCost,
} from './provisioned-concurrency.js';

const rates = resolveRates({ region: 'us-east-1', arch: 'x86_64' });
const provisioned = rates.provisioned!;

describe('erlangB', () => {
  it('has the closed forms for one and two servers', () => {
    expect(erlangB(1, 3)).toBeCloseTo(3 / 4, 12);
    // B(2, a) = (a²/2) / (1 + a + a²/2)
    expect(erlangB(2, 1)).toBeCloseTo(0.5 / 2.5, 12);
    expect(erlangB(0, 2)).toBe(1);
    expect(erlangB(5, 0)).toBe(0);
  });

  it('lies in [0, 1], falls with more servers and rises with more load', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.double({ min: 0.001, max: 80, noNaN: true }),
        (servers, load) => {
          const b = erlangB(servers, load);
          expect(b).toBeGreaterThanOrEqual(0);
          expect(b).toBeLessThanOrEqual(1);
          expect(erlangB(servers + 1, load)).toBeLessThanOrEqual(b);
          expect(erlangB(servers, load * 1.5)).toBeGreaterThanOrEqual(b - 1e-15);
        },
      ),
    );
  });
});

describe('provisioned concurrency prices', () => {
  it('reproduces AWS’s pricing example: 1,000 × 1 GB for 2 h, 1.2 M invocations of 1 s → $41.91', () => {
    // https://aws.amazon.com/lambda/pricing/ ("Provisioned Concurrency Pricing", example 1):
    // $30.00 configured concurrency + $11.67 duration + $0.24 requests.
    const standing = provisionedConcurrencyUsdPerHour(1024, 1000, rates) * 2;
    expect(standing).toBeCloseTo(30.0, 2);
    const invocations = 1_200_000;
    const arrivalRatePerS = invocations / 7200;
    const cost = provisionedReplicaCost(
      { memoryMB: 1024, gbSecondsPerInvocation: 1, arrivalRatePerS, provisioned: 1000 },
      { ...rates, provisioned },
    );
    // 167 Erlangs on 1,000 instances: nothing spills over.
    expect(cost.spillFraction).toBeLessThan(1e-12);
    expect(invocations * cost.durationUsdPerInvocation).toBeCloseTo(11.67, 2);
    expect(invocations * cost.requestUsdPerInvocation).toBeCloseTo(0.24, 10);
    expect(invocations * cost.usdPerBatch).toBeCloseTo(41.91, 2);
  });

  it('bills spill-over on demand: with one instance under heavy load most invocations pay the on-demand price', () => {
    const cost = provisionedReplicaCost(
      { memoryMB: 1024, gbSecondsPerInvocation: 1, arrivalRatePerS: 9, provisioned: 1 },
      { ...rates, provisioned },
    );
    expect(cost.spillFraction).toBeCloseTo(0.9, 12);
    expect(cost.durationUsdPerInvocation).toBeCloseTo(
      0.1 * provisioned.durationUsdPerGbSecond + 0.9 * rates.usdPerGbSecond,
      15,
    );
  });

  it('chooses provisioned concurrency only where it is cheaper than on demand', () => {
    const replica = { memoryMB: 2048, gbSecondsPerInvocation: 2 * 0.4 };
    // 0.4 s per batch at 0.5 batches/s: 0.2 Erlangs; an instance idles 80 % of the time.
    const idle = bestProvisionedConcurrency({ ...replica, arrivalRatePerS: 0.5 }, rates);
    expect(idle.provisioned).toBe(0);
    // At 20 batches/s, 8 Erlangs: instances that are busy most of the time cost less than on demand.
    const busy = bestProvisionedConcurrency({ ...replica, arrivalRatePerS: 20 }, rates);
    expect(busy.provisioned).toBeGreaterThan(0);
    expect(busy.cost!.usdPerBatch).toBeLessThan(busy.cost!.onDemandUsdPerBatch);
    // The choice is the cheapest count: one more or one fewer costs at least as much.
    for (const other of [busy.provisioned - 1, busy.provisioned + 1]) {
      const cost = provisionedReplicaCost(
        { ...replica, arrivalRatePerS: 20, provisioned: other },
        { ...rates, provisioned },
      );
      expect(cost.usdPerBatch).toBeGreaterThanOrEqual(busy.cost!.usdPerBatch);
    }
    // No arrival rate, or no provisioned prices: nothing to price, nothing chosen.
    expect(bestProvisionedConcurrency({ ...replica, arrivalRatePerS: 0 }, rates).provisioned).toBe(0);
    expect(
      bestProvisionedConcurrency({ ...replica, arrivalRatePerS: 20 }, { ...rates, provisioned: undefined })
        .provisioned,
    ).toBe(0);
  });

  it('crosses over near the utilisation where the standing charge equals the duration saving', () => {
    // One instance, no spill-over to speak of at low load: provisioned is cheaper once
    // utilisation u satisfies p_pc < u·(p_od − p_pcd), i.e. u > 4.1667 / 6.9445 ≈ 0.60 on x86_64.
    const breakEven =
      provisioned.concurrencyUsdPerGbSecond / (rates.usdPerGbSecond - provisioned.durationUsdPerGbSecond);
    expect(breakEven).toBeCloseTo(0.6, 2);
    fc.assert(
      fc.property(fc.double({ min: 0.05, max: 3, noNaN: true }), (load) => {
        const { provisioned: count } = bestProvisionedConcurrency(
          { memoryMB: 1024, gbSecondsPerInvocation: 1, arrivalRatePerS: load },
          rates,
        );
        // Below the break-even load even a perfectly used instance cannot pay for itself.
        if (load < breakEven) expect(count).toBe(0);
      }),
    );
  });

  it('refuses to price what it cannot: a count that is not whole, a table without provisioned prices', () => {
    expect(() => provisionedConcurrencyUsdPerHour(1024, 1.5, rates)).toThrow(/provisionedConcurrency/);
    const table = structuredClone(defaultPriceTable) as PriceTable;
    delete table.regions['us-east-1']!.lambda.provisionedConcurrency;
    const without = resolveRates({}, table);
    expect(without.provisioned).toBeUndefined();
    expect(() => provisionedConcurrencyUsdPerHour(1024, 2, without)).toThrow(
      /no provisioned-concurrency prices/,
    );
    expect(provisionedConcurrencyUsdPerHour(1024, 0, without)).toBe(0);
  });
});
