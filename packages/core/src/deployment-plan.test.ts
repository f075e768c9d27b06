import { describe, expect, it } from 'vitest';
import { deploymentPlanSchema } from './deployment-plan.js';

/** A one-layer, one-function plan as plans were written before provisioned concurrency existed. */
function planWith(fn: Record<string, unknown> = {}): unknown {
  return {
    kind: 'switchyard.deployment-plan',
    version: 1,
    createdAt: '2026-12-06T00:00:00Z',
    strategy: 'manual',
    model: {
      name: 'm',
      fingerprint: 'f',
      architecture: 'mixtral',
      hiddenSize: 8,
      expertIntermediateSize: 16,
      numExperts: 1,
      topK: 1,
      bytesPerExpert: 1000,
    },
    workload: { tokensPerBatch: 16, sloMs: 100 },
    priceTable: { version: 'v', date: '2026-12-06' },
    layers: [
      {
        layer: 0,
        method: 'direct',
        beta: 16,
        functions: [
          { name: 'm-l0-e0', experts: [0], memoryMB: 512, replicas: 1, functionNames: ['m-l0-e0-r0'], ...fn },
        ],
        experts: [
          {
            expert: 0,
            functionIndex: 0,
            predictedTokens: 16,
            predictedTokensLow: 16,
            predictedTokensHigh: 16,
          },
        ],
      },
    ],
    predicted: { costUsdPerBatch: 0, latencyMs: 0, computeUsd: 0, requestUsd: 0, sloMet: true },
  };
}

describe('deploymentPlanSchema and provisioned concurrency', () => {
  it('parses plans written before it (no provisioned concurrency, no provisionedUsd)', () => {
    const plan = deploymentPlanSchema.parse(planWith());
    expect(plan.layers[0]?.functions[0]?.provisionedConcurrency).toBeUndefined();
    expect(plan.predicted.provisionedUsd).toBe(0);
  });

  it('takes provisioned concurrency per replica, at most the reserved concurrency', () => {
    const plan = deploymentPlanSchema.parse(planWith({ provisionedConcurrency: 2, reservedConcurrency: 2 }));
    expect(plan.layers[0]?.functions[0]?.provisionedConcurrency).toBe(2);
    const over = deploymentPlanSchema.safeParse(
      planWith({ provisionedConcurrency: 3, reservedConcurrency: 2 }),
    );
    expect(over.success).toBe(false);
    expect(over.error?.issues[0]).toMatchObject({
      path: ['layers', 0, 'functions', 0, 'provisionedConcurrency'],
      message: expect.stringMatching(/provisions 3 instances but reserves only 2/),
    });
    expect(deploymentPlanSchema.safeParse(planWith({ provisionedConcurrency: 0 })).success).toBe(false);
  });
});
