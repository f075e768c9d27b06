import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { handTraffic } from '../test/fixtures.js';
import { cpuBaselines } from './cpu-baselines.js';
import { type CpuTrafficOptions, cpuPricing, parseCpuTrafficOptions } from './cpu-baselines-options.js';
import { defaultPriceTable } from './price-table.js';
import type { Traffic } from './traffic.js';
import { mmppTraffic, onOffStates } from './traffic-bursty.js';
import { poissonTraffic } from './traffic-poisson.js';

const usdPerVcpuHour = 5.5296 / 128;

const stream = handTraffic;
const staticCpuCluster = (traffic: Traffic, options: CpuTrafficOptions) =>
  cpuBaselines(traffic, options).static;
const rightSizedCpuPool = (traffic: Traffic, options: CpuTrafficOptions) =>
  cpuBaselines(traffic, options).rightSized;
const autoscaledCpuCluster = (traffic: Traffic, options: CpuTrafficOptions) =>
  cpuBaselines(traffic, options).autoscaled;

/** One request of `tokens` forward tokens every second for `durationS`. */
function steady(tokens: number, durationS: number): Traffic {
  return stream(
    Array.from({ length: durationS }, (_, i) => [i, tokens, 1] as [number, number, number]),
    durationS,
  );
}

describe('CPU pricing', () => {
  it("prices a smaller size of the table's family at the same $/vCPU-hour, and takes EC2's billing rule", () => {
    const pricing = cpuPricing(parseCpuTrafficOptions({ tokensPerVcpuSecond: 1, vcpusPerInstance: 8 }));
    expect(pricing.usdPerInstanceHour).toBeCloseTo(8 * usdPerVcpuHour, 12);
    expect(pricing.usdPerVcpuHour).toBeCloseTo(usdPerVcpuHour, 12);
    expect(pricing.billingGranularityS).toBe(1);
    expect(pricing.minimumBilledS).toBe(60);
    expect(pricing.description).toContain('m6a.32xlarge');
    const given = cpuPricing(
      parseCpuTrafficOptions({ tokensPerVcpuSecond: 1, vcpusPerInstance: 4, usdPerInstanceHour: 1 }),
    );
    expect(given.usdPerVcpuHour).toBe(0.25);
  });

  it('names a bad option', () => {
    expect(() => parseCpuTrafficOptions({ tokensPerVcpuSecond: 0 })).toThrow(/tokensPerVcpuSecond/);
    expect(() => parseCpuTrafficOptions({ tokensPerVcpuSecond: 1, targetUtilization: 1.5 })).toThrow(
      /targetUtilization/,
    );
    expect(() =>
      parseCpuTrafficOptions({ tokensPerVcpuSecond: 1, autoscaling: { minInstances: 3, maxInstances: 2 } }),
    ).toThrow(/autoscaling\.maxInstances/);
    expect(() =>
      parseCpuTrafficOptions({ tokensPerVcpuSecond: 1, autoscaling: { bootDelay: 3 } } as never),
    ).toThrow(/bootDelay/);
    expect(() => cpuBaselines(steady(1, 10), { tokensPerVcpuSecond: 1, instanceType: 'x9.huge' })).toThrow(
      /instanceType/,
    );
  });
});

describe('the three CPU baselines on a hand-made stream', () => {
  // 100 forward tokens each second at 10 tokens/s per vCPU: 10 vCPUs of work, always.
  const traffic = steady(100, 600);
  const options = { tokensPerVcpuSecond: 10, vcpusPerInstance: 4 };

  it('static: the fewest instances carrying the busiest minute, billed for the window', () => {
    const cost = staticCpuCluster(traffic, options);
    expect(cost.maxInstances).toBe(3); // 10 vCPUs ÷ 4 per instance
    expect(cost.horizonS).toBe(600);
    expect(cost.usd).toBeCloseTo((3 * 4 * usdPerVcpuHour * 600) / 3600, 12);
    expect(cost.busyVcpuSeconds).toBeCloseTo(6000, 9);
    expect(cost.utilization).toBeCloseTo(10 / 12, 12);
    // 12 vCPUs serve each second's 10 vCPU-s within the second: nobody waits.
    expect(cost.wait!.maxS).toBe(0);
  });

  it('right-sized: busy vCPU-seconds at the per-vCPU price, nothing idle', () => {
    const cost = rightSizedCpuPool(traffic, options);
    expect(cost.usd).toBeCloseTo((6000 * usdPerVcpuHour) / 3600, 12);
    expect(cost.utilization).toBe(1);
    expect(cost.wait).toBeUndefined();
  });

  it('counts decode tokens at their own throughput when one is given', () => {
    const decodeHeavy = stream([[0, 100, 101]], 10);
    const same = rightSizedCpuPool(decodeHeavy, { tokensPerVcpuSecond: 100 });
    const slowDecode = rightSizedCpuPool(decodeHeavy, {
      tokensPerVcpuSecond: 100,
      outputTokensPerVcpuSecond: 10,
    });
    expect(same.busyVcpuSeconds).toBeCloseTo(2, 12);
    expect(slowDecode.busyVcpuSeconds).toBeCloseTo(1 + 10, 12);
  });

  it('autoscaled: under steady load holds the static fleet and costs the same', () => {
    const cost = autoscaledCpuCluster(traffic, options);
    expect(cost.launches).toBe(0);
    expect(cost.maxInstances).toBe(3);
    expect(cost.usd).toBeCloseTo(staticCpuCluster(traffic, options).usd, 9);
  });

  it('autoscaled: boots for a burst, serves it after the boot delay, keeps each new instance its minimum billed time', () => {
    // Nothing but 40 vCPU-s of work at t = 300; scale to zero allowed, decisions every 10 s.
    const burst = stream([[300, 400, 1]], 600);
    const cost = autoscaledCpuCluster(burst, {
      tokensPerVcpuSecond: 10,
      vcpusPerInstance: 4,
      autoscaling: {
        decisionIntervalS: 10,
        bootDelayS: 30,
        scaleInWindowS: 0,
        minInstances: 0,
        maxInstances: 20,
      },
    });
    // At 300 the policy wants (40 arrived + 40 waiting) / 10 s = 8 vCPUs: 2 instances, serving from 330,
    // done at 335. It wants none from 340 on, but may stop them only at 360, after EC2's 60 s minimum.
    expect(cost.launches).toBe(2);
    expect(cost.maxInstances).toBe(2);
    expect(cost.wait!.maxS).toBeCloseTo(30, 9);
    expect(cost.shortestLifetimeS).toBe(60);
    expect(cost.billedVcpuSeconds).toBeCloseTo(2 * 60 * 4, 9);
    expect(cost.bootingVcpuSeconds).toBeCloseTo(2 * 30 * 4, 9);
    expect(cost.usd).toBeCloseTo((2 * 60 * 4 * usdPerVcpuHour) / 3600, 12);
    expect(cost.utilization).toBeCloseTo(40 / 480, 12);
    expect(cost.horizonS).toBe(600);
  });

  it('autoscaled: the scale-in window holds the fleet after a burst', () => {
    const burst = stream([[300, 400, 1]], 600);
    const options = {
      tokensPerVcpuSecond: 10,
      vcpusPerInstance: 4,
      autoscaling: { decisionIntervalS: 10, bootDelayS: 0, minInstances: 0, maxInstances: 20 },
    };
    // Wanted 2 at 300; with a 120 s window they stay until the wish at 300 is 120 s old.
    const held = autoscaledCpuCluster(burst, {
      ...options,
      autoscaling: { ...options.autoscaling, scaleInWindowS: 120 },
    });
    expect(held.billedVcpuSeconds).toBeCloseTo(2 * 120 * 4, 9);
    const quick = autoscaledCpuCluster(burst, {
      ...options,
      autoscaling: { ...options.autoscaling, scaleInWindowS: 0 },
    });
    expect(quick.billedVcpuSeconds).toBeCloseTo(2 * 60 * 4, 9);
  });

  it('autoscaled: billed until its backlog drains when the window ends mid-burst', () => {
    const late = stream([[590, 2000, 1]], 600); // 200 vCPU-s at 10 s before the end
    const cost = autoscaledCpuCluster(late, {
      tokensPerVcpuSecond: 10,
      vcpusPerInstance: 4,
      autoscaling: { bootDelayS: 0, minInstances: 1, maxInstances: 1 },
    });
    expect(cost.horizonS).toBeCloseTo(590 + 200 / 4, 9);
    expect(cost.usd).toBeCloseTo((4 * usdPerVcpuHour * cost.horizonS) / 3600, 12);
  });
});

const arbitraryStream = fc
  .record({
    kind: fc.constantFrom('poisson', 'bursty'),
    requestsPerS: fc.double({ min: 0.05, max: 8, noNaN: true }),
    seed: fc.integer({ min: 0, max: 1000 }),
  })
  .map(({ kind, requestsPerS, seed }) => {
    const sizes = [
      { promptTokens: 1500, outputTokens: 20 },
      { promptTokens: 300, outputTokens: 200 },
    ];
    return kind === 'poisson'
      ? poissonTraffic({ requestsPerS, durationS: 1800, sizes, seed })
      : mmppTraffic({
          states: onOffStates({ meanRequestsPerS: requestsPerS, meanOnS: 60, meanOffS: 240 }),
          durationS: 1800,
          sizes,
          seed,
        });
  });

const arbitraryOptions = fc.record({
  tokensPerVcpuSecond: fc.double({ min: 20, max: 5000, noNaN: true }),
  vcpusPerInstance: fc.integer({ min: 1, max: 64 }),
  targetUtilization: fc.double({ min: 0.3, max: 1, noNaN: true }),
  peakWindowS: fc.integer({ min: 1, max: 600 }),
  autoscaling: fc.record({
    decisionIntervalS: fc.integer({ min: 5, max: 300 }),
    bootDelayS: fc.integer({ min: 0, max: 300 }),
    scaleInWindowS: fc.integer({ min: 0, max: 900 }),
    minInstances: fc.integer({ min: 0, max: 2 }),
  }),
});

describe('properties of the CPU baselines', () => {
  it('the right-sized pool is never dearer than the static cluster or the autoscaled one', () => {
    fc.assert(
      fc.property(arbitraryStream, arbitraryOptions, (traffic, options) => {
        const costs = cpuBaselines(traffic, options, defaultPriceTable);
        expect(costs.rightSized.usd).toBeLessThanOrEqual(costs.static.usd * (1 + 1e-9));
        expect(costs.rightSized.usd).toBeLessThanOrEqual(costs.autoscaled.usd * (1 + 1e-9));
        for (const cost of [costs.static, costs.rightSized, costs.autoscaled]) {
          expect(cost.utilization).toBeLessThanOrEqual(1 + 1e-9);
          expect(cost.horizonS).toBeGreaterThanOrEqual(traffic.durationS);
        }
      }),
      { seed: 61, numRuns: 60 },
    );
  });

  it('the autoscaled cluster is never dearer than the static one, but for the time it spends booting', () => {
    fc.assert(
      fc.property(arbitraryStream, arbitraryOptions, (traffic, options) => {
        const costs = cpuBaselines(traffic, options, defaultPriceTable);
        const bootingUsd = (costs.autoscaled.bootingVcpuSeconds! * costs.pricing.usdPerVcpuHour) / 3600;
        expect(costs.autoscaled.usd).toBeLessThanOrEqual((costs.static.usd + bootingUsd) * (1 + 1e-9));
        expect(costs.autoscaled.maxInstances).toBeLessThanOrEqual(
          Math.max(costs.static.maxInstances, options.autoscaling.minInstances),
        );
        // Its queue is never shorter than the static cluster's (less capacity at every instant).
        expect(costs.autoscaled.wait!.maxS).toBeGreaterThanOrEqual(costs.static.wait!.maxS - 1e-9);
      }),
      { seed: 62, numRuns: 60 },
    );
  });

  it('with instant boots the autoscaled cluster lies between the right-sized pool and the static cluster', () => {
    fc.assert(
      fc.property(arbitraryStream, arbitraryOptions, (traffic, options) => {
        const costs = cpuBaselines(traffic, {
          ...options,
          autoscaling: { ...options.autoscaling, bootDelayS: 0 },
        });
        expect(costs.autoscaled.usd).toBeLessThanOrEqual(costs.static.usd * (1 + 1e-9));
        expect(costs.autoscaled.usd).toBeGreaterThanOrEqual(costs.rightSized.usd * (1 - 1e-9));
      }),
      { seed: 63, numRuns: 60 },
    );
  });

  it('every cost is proportional to the price: a 2× dearer instance doubles all three bills', () => {
    fc.assert(
      fc.property(arbitraryStream, arbitraryOptions, (traffic, options) => {
        const once = cpuBaselines(traffic, { ...options, usdPerInstanceHour: 1 });
        const twice = cpuBaselines(traffic, { ...options, usdPerInstanceHour: 2 });
        for (const key of ['static', 'rightSized', 'autoscaled'] as const)
          expect(twice[key].usd).toBeCloseTo(2 * once[key].usd, 9);
      }),
      { seed: 64, numRuns: 20 },
    );
  });
});
