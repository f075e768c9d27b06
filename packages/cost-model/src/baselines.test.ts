import { describe, expect, it } from 'vitest';
import { flatComputeProfile, handTransport, makePlan } from '../test/fixtures.js';
import { cpuClusterBaseline, lambdaMlBaseline, powerTuningBaseline } from './baselines.js';
import { CostEvaluator } from './evaluator.js';
import { powerTuningCostUsd } from './lambda-cost.js';
import { transportParametersSchema } from './latency.js';
import { paperMemoryOptionsMB } from './memory.js';
import { planCost } from './plan-cost.js';
import { resolveRates } from './price-table.js';

const profile = { compute: flatComputeProfile, transport: handTransport };
const plan = makePlan(
  [
    {
      method: 's3',
      beta: 64,
      functions: [
        [1024, 1, 1000],
        [256, 1, 500],
        [256, 1, 0],
      ],
    },
  ],
  {
    tokensPerBatch: 750,
  },
);

describe('cpuClusterBaseline', () => {
  it('bills the hours the cluster spends on the slowest expert of each layer (hand-computed)', () => {
    // Flat profile: 0.1 ms/token, no thread return → the slowest expert (1000 tokens) takes 100 ms.
    const result = cpuClusterBaseline(plan, {}, profile);
    expect(result.latencyMs).toBeCloseTo(100, 9);
    expect(result.costUsdPerBatch).toBeCloseTo((5.5296 * 100) / 3_600_000, 15);
    expect(result.throughputTokensPerS).toBeCloseTo(7500, 6);
    expect(result.description).toContain('m6a.32xlarge');
  });

  it('takes a configurable instance price, count and utilization', () => {
    const result = cpuClusterBaseline(plan, {}, profile, undefined, {
      usdPerHour: 10,
      vcpus: 64,
      instances: 2,
      utilization: 0.5,
    });
    expect(result.costUsdPerBatch).toBeCloseTo((10 * 2 * 100) / 3_600_000 / 0.5, 15);
    expect(() => cpuClusterBaseline(plan, {}, profile, undefined, { instanceType: 'nope.large' })).toThrow(
      /instanceType/,
    );
  });
});

describe('lambdaMlBaseline', () => {
  it('puts every expert in its own 3,008 MB function with one replica', () => {
    const result = lambdaMlBaseline(plan, {}, profile);
    const functions = result.report!.layers[0]!.functions;
    expect(functions.map((f) => [f.memoryMB, f.replicas])).toEqual([
      [3008, 1],
      [3008, 1],
      [3008, 1],
    ]);
    // 1000 × 512 B fits the 6 MB payload → direct.
    expect(result.report!.layers[0]!.method).toBe('direct');
    // The unused expert costs nothing: it is never invoked.
    expect(functions[2]!.totalUsd).toBe(0);
    expect(result.costUsdPerBatch).toBeCloseTo(result.report!.costUsdPerBatch, 15);
  });

  it('costs more than a right-sized plan on the same loads', () => {
    const rightSized = planCost(
      makePlan([
        {
          method: 'direct',
          beta: 64,
          functions: [
            [1769, 1, 1000],
            [1769, 1, 500],
          ],
        },
      ]),
      {},
      profile,
    );
    const lambdaMl = lambdaMlBaseline(
      makePlan([
        {
          method: 'direct',
          beta: 64,
          functions: [
            [1769, 1, 1000],
            [1769, 1, 500],
          ],
        },
      ]),
      {},
      profile,
    );
    expect(lambdaMl.costUsdPerBatch).toBeGreaterThan(rightSized.costUsdPerBatch);
  });
});

describe('powerTuningBaseline', () => {
  it("picks, per function, the memory minimising Power Tuning's formula over the 14 sizes", () => {
    const result = powerTuningBaseline(plan, {}, profile);
    // 128 MB cannot hold the 150 MB runtime: 13 feasible sizes per function.
    const feasible = paperMemoryOptionsMB.filter((m) => m > 128);
    expect(result.evaluations).toBe(3 * feasible.length);
    const rates = resolveRates();
    const evaluator = new CostEvaluator({
      rates,
      compute: flatComputeProfile,
      transport: transportParametersSchema.parse(handTransport),
      hiddenSize: 128,
      expertIntermediateSize: 256,
    });
    const chosen = result.report!.layers[0]!.functions;
    for (const [expert, tokens] of [
      [0, 1000],
      [1, 500],
    ] as const) {
      const costs = feasible.map((m) =>
        powerTuningCostUsd(m, evaluator.replicaMs('direct', tokens, m, tokens, 1_000_000), rates),
      );
      const best = feasible[costs.indexOf(Math.min(...costs))];
      expect(chosen[expert]!.memoryMB).toBe(best);
    }
  });

  it('the speed strategy picks the smallest size that reaches full speed', () => {
    // With no thread return, nothing beats one full vCPU (1,769 MB): the first option above is 1,792.
    const result = powerTuningBaseline(plan, {}, profile, undefined, { strategy: 'speed' });
    expect(result.report!.layers[0]!.functions[0]!.memoryMB).toBe(1792);
  });
});
