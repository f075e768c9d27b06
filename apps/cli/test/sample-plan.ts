import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DeploymentPlan, type DeploymentPlanInput, deploymentPlanSchema } from '@switchyard/core';
import { loadModel } from '@switchyard/model';
import { createDefaultPlan } from '@switchyard/scatter-gather';
import { repoRoot } from '@switchyard/testing/cli';
import { buildPlan, prediction } from '@switchyard/testing/plans';

/**
 * A valid plan for a 4-layer × 8-expert model with skewed loads, for report tests. Figures are
 * arbitrary but consistent: the report must draw whatever a plan holds.
 */
export function samplePlan(overrides: Partial<DeploymentPlanInput> = {}): DeploymentPlan {
  const loads = [
    [19455, 166, 14831, 20233, 30548, 22283, 3849, 19707],
    [2936, 44222, 27357, 528, 0, 18604, 36341, 1084],
    [39385, 11261, 10071, 7711, 24780, 13547, 3117, 21200],
    [4372, 6070, 15815, 37106, 15145, 9675, 19982, 22907],
  ];
  const input = buildPlan({
    createdAt: '2026-11-28T00:00:00.000Z',
    strategy: 'bo',
    model: {
      name: 'shakespeare-mixtral-8x2',
      fingerprint: 'sha256:test',
      hiddenSize: 128,
      expertIntermediateSize: 384,
      numExperts: 8,
      topK: 2,
      bytesPerExpert: 589824,
    },
    workload: { tokensPerBatch: 10240, sloMs: 2000 },
    priceTable: { version: '2026-11', date: '2026-11-01' },
    layers: loads.map((row, layer) => ({
      layer,
      beta: 512,
      functions: row.map((load, expert) => ({
        name: `sy-l${layer}-e${expert}`,
        experts: [expert],
        memoryMB: load > 30000 ? 1024 : 512,
        replicas: load > 30000 ? 2 : 1,
      })),
      predict: (expert) => {
        const tokens = (row[expert]! / 131072) * 20480;
        return prediction(tokens, tokens * 0.8, tokens * 1.2);
      },
    })),
    predicted: {
      costUsdPerBatch: 0.00021,
      latencyMs: 1450,
      computeUsd: 0.0002,
      requestUsd: 0.00001,
      sloMet: true,
    },
    baselines: {
      lambdaml: { costUsdPerBatch: 0.00052, latencyMs: 1200 },
      'cpu-cluster': { costUsdPerBatch: 0.0011, latencyMs: 900 },
    },
    search: {
      evaluations: 12,
      seed: 7,
      bestCostHistory: [
        0.0005, 0.0004, 0.0004, 0.00033, 0.0003, 0.0003, 0.00026, 0.00024, 0.00024, 0.00022, 0.00021, 0.00021,
      ],
    },
  });
  return deploymentPlanSchema.parse({ ...input, ...overrides });
}

/**
 * Writes `<dir>/plan.json`: the bundled model's default plan with one function per layer holding all
 * 8 experts (packed segments), so a run on the embedded runtime pays 4 cold starts instead of 32.
 */
export async function writeBundledModelPlan(dir: string, beta?: number): Promise<string> {
  const model = await loadModel(bundledModelDir);
  const plan = createDefaultPlan(model.summary, {
    expertsPerFunction: 8,
    memoryMB: 1024,
    ...(beta === undefined ? {} : { beta }),
  });
  await model.close();
  const planPath = join(dir, 'plan.json');
  writeFileSync(planPath, JSON.stringify(plan));
  return planPath;
}

/** The bundled checkpoint (shakespeare-mixtral-8x2). */
export const bundledModelDir = join(repoRoot, 'fixtures/checkpoints/shakespeare-mixtral-8x2');
