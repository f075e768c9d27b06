import { describe, expect, it } from 'vitest';
import { forecastFromBatches } from './load-forecast.js';
import { nominalComputeProfile } from './nominal-profile.js';
import { planPaperMethod } from './paper-method.js';
import { paperRouting } from './paper-routing.js';
import { paperShape } from './paper-shapes.js';
import { planDeployment } from './plan-deployment.js';
import { PlanningProblem } from './planning-problem.js';
import { billOnBatches, configurationFromPlan } from './realised-bill.js';

const model = { ...paperShape('bert-moe-12x4'), name: 'test', moeLayers: [0, 1, 2] };
const routing = paperRouting({
  domains: [
    {
      name: 'a',
      layers: [
        [900, 50, 300, 20, 10, 400],
        [100, 700, 60, 30, 250, 15],
      ],
    },
    {
      name: 'b',
      layers: [
        [500, 60, 400, 80, 20, 300],
        [200, 500, 90, 60, 200, 25],
      ],
    },
  ],
  calibrationDomains: ['a', 'b'],
  numLayers: 3,
  numExperts: 4,
  topK: 1,
  tokensPerBatch: 2048,
  calibrationBatchesPerDomain: 4,
  heldOutBatchesPerDomain: 2,
  seed: 7,
});
const calibration = routing.calibration.map((batch) => batch.loads);
const forecast = forecastFromBatches(calibration, { tokensPerBatch: 2048 });
const countTable = [0, 1, 2].map((l) =>
  [0, 1, 2, 3].map((e) => calibration.reduce((sum, b) => sum + b[l]![e]!, 0)),
);
const problemAt = (sloMs: number, methods?: ('s3-pipelined' | 's3' | 'direct')[]) =>
  new PlanningProblem({
    model,
    forecast,
    costProfile: { compute: nominalComputeProfile(model) },
    workload: { tokensPerBatch: 2048, sloMs },
    ...(methods ? { methods } : {}),
  });

describe('planPaperMethod', () => {
  it('searches the Q largest count-table entries, starting from the unmodified table', async () => {
    const problem = problemAt(4000);
    const result = await planPaperMethod({
      problem,
      countTable,
      objectiveBatches: calibration,
      solver: 'ods',
      entries: 5,
      maxEvaluations: 6,
      seed: 1,
    });
    expect(result.dimensions).toBe(5);
    expect(result.evaluations).toBe(6);
    expect(result.bestCostHistory).toHaveLength(6);
    expect(result.configuration).toBeDefined();
    // The first trial is the predictor as counted; a feasible start can only be improved on.
    if (Number.isFinite(result.bestCostHistory[0]!))
      expect(result.chosenCostUsd).toBeLessThanOrEqual(result.predictorCostUsd);
    const all = await planPaperMethod({
      problem,
      countTable,
      objectiveBatches: calibration,
      solver: 'ods',
      maxEvaluations: 1,
    });
    expect(all.dimensions).toBe(12);
    expect(all.chosenCostUsd).toBe(all.predictorCostUsd);
  });

  it('gives ODS and the exact solver the same answer when one method is allowed (ODS solves each method exactly)', async () => {
    const problem = problemAt(4000, ['s3']);
    const run = (solver: 'ods' | 'exact') =>
      planPaperMethod({
        problem,
        countTable,
        objectiveBatches: calibration,
        solver,
        maxEvaluations: 3,
        seed: 2,
      });
    const [ods, exact] = await Promise.all([run('ods'), run('exact')]);
    expect(ods.chosenCostUsd).toBeCloseTo(exact.chosenCostUsd, 12);
    expect(ods.configuration!.costUsd).toBeCloseTo(exact.configuration!.costUsd, 12);
  });

  it('rejects multipliers without 1 and a table that does not fit the model', async () => {
    const problem = problemAt(4000);
    await expect(
      planPaperMethod({
        problem,
        countTable,
        objectiveBatches: calibration,
        solver: 'ods',
        multipliers: [0.5, 2],
      }),
    ).rejects.toThrow(/include 1/);
    await expect(
      planPaperMethod({
        problem,
        countTable: countTable.slice(1),
        objectiveBatches: calibration,
        solver: 'ods',
      }),
    ).rejects.toThrow(/count table has 2 layers/);
    await expect(
      planPaperMethod({ problem, countTable, objectiveBatches: [], solver: 'ods' }),
    ).rejects.toThrow(/at least one calibration batch/);
  });
});

describe('billOnBatches', () => {
  it('bills a plan on its own mean load as the planner predicted it, and a heavier batch higher', async () => {
    const options = {
      model,
      forecast,
      costProfile: { compute: nominalComputeProfile(model) },
      workload: { tokensPerBatch: 2048, sloMs: 4000 },
      strategy: 'ods' as const,
    };
    const plan = await planDeployment(options);
    const problem = new PlanningProblem(options);
    const configuration = configurationFromPlan(plan, model.bytesPerExpert);
    const mean = { domain: 'mean', loads: forecast.layers.map((layer) => layer.mean.map(Math.round)) };
    const atMean = billOnBatches(problem.solver, configuration, [mean]);
    expect(atMean.meanCostUsd).toBeCloseTo(plan.predicted.costUsdPerBatch, 6);
    expect(Math.abs(atMean.meanLatencyMs / plan.predicted.latencyMs - 1)).toBeLessThan(0.01);
    const heavy = { domain: 'heavy', loads: mean.loads.map((layer) => layer.map((count) => 2 * count)) };
    const both = billOnBatches(problem.solver, configuration, [mean, heavy]);
    expect(both.worstCostUsd).toBeGreaterThan(atMean.meanCostUsd);
    expect(both.byDomain.heavy!.meanLatencyMs).toBeGreaterThan(both.byDomain.mean!.meanLatencyMs);
    expect(both.meanCostUsd).toBeCloseTo(
      (both.byDomain.heavy!.meanCostUsd + both.byDomain.mean!.meanCostUsd) / 2,
      12,
    );
    expect(() => billOnBatches(problem.solver, configuration, [])).toThrow(/no batches/);
  });
});
