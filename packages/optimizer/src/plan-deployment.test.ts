import { deploymentPlanSchema, SwitchyardError, type TransportMethod } from '@switchyard/core';
import { planCost } from '@switchyard/cost-model';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forecastFromPopularity } from './load-forecast.js';
import { nominalComputeProfile } from './nominal-profile.js';
import type { PlanDeploymentOptions } from './options.js';
import { paperShape } from './paper-shapes.js';
import { pickMostAttaining, planDeployment } from './plan-deployment.js';
import { PlanningProblem } from './planning-problem.js';

function instance(options: {
  layers: number;
  experts: number;
  tokensPerBatch: number;
  topK?: number;
  sloMs?: number;
  skew?: number[];
  memoryOptionsMB?: number[];
  maxReplicas?: number;
}): PlanDeploymentOptions {
  const shape = paperShape(options.topK === 2 ? 'bert-moe-12x4-top2' : 'bert-moe-12x4');
  const model = {
    ...shape,
    name: 'test',
    numExperts: options.experts,
    moeLayers: Array.from({ length: options.layers }, (_, i) => i),
  };
  const popularity = Array.from({ length: options.layers }, (_, l) =>
    Array.from({ length: options.experts }, (_, e) => options.skew?.[(l + e) % options.skew.length] ?? 1 + e),
  );
  return {
    model,
    forecast: forecastFromPopularity(popularity, {
      tokensPerBatch: options.tokensPerBatch,
      topK: model.topK,
    }),
    costProfile: { compute: nominalComputeProfile(model) },
    workload: { tokensPerBatch: options.tokensPerBatch, sloMs: options.sloMs ?? 60_000 },
    createdAt: '2026-11-28T00:00:00.000Z',
    memoryOptionsMB: options.memoryOptionsMB,
    maxReplicas: options.maxReplicas,
  };
}

describe('DeploymentSolver', () => {
  it('matches brute-force enumeration on a tiny instance (within the DP budget grid)', () => {
    const input = instance({
      layers: 2,
      experts: 2,
      tokensPerBatch: 2048,
      skew: [1, 3],
      memoryOptionsMB: [256, 512, 1024, 2048],
      maxReplicas: 2,
    });
    const base = new PlanningProblem(input);
    const knobs = { beta: 64, loadQuantile: 0.9, packingThreshold: 0, sloHeadroom: 0 };
    const unbounded = new PlanningProblem({ ...input, workload: { tokensPerBatch: 2048, sloMs: 1e9 } });
    const fastest = unbounded.solver.solve(knobs).minimumLatencyMs;
    const sloMs = fastest * 1.4;
    const problem = new PlanningProblem({ ...input, workload: { tokensPerBatch: 2048, sloMs } });
    const groups = problem.solver.groups(knobs);
    // Brute force: every method per layer × memory × replicas per function.
    const perLayer = groups.map((layerGroups) => {
      const combos: { latencyMs: number; costUsd: number }[] = [];
      for (const method of ['s3-pipelined', 's3', 'direct'] as TransportMethod[]) {
        const options = layerGroups.map((group) =>
          [256, 512, 1024, 2048].flatMap((memoryMB) =>
            [1, 2].flatMap((replicas) => {
              const option = base.solver.option(method, group, memoryMB, replicas, knobs.beta);
              return option ? [option] : [];
            }),
          ),
        );
        for (const a of options[0]!)
          for (const b of options[1]!)
            combos.push({ latencyMs: Math.max(a.latencyMs, b.latencyMs), costUsd: a.costUsd + b.costUsd });
      }
      return combos;
    });
    const bruteForce = (budgetMs: number): number => {
      let best = Number.POSITIVE_INFINITY;
      for (const a of perLayer[0]!)
        for (const b of perLayer[1]!)
          if (a.latencyMs + b.latencyMs <= budgetMs) best = Math.min(best, a.costUsd + b.costUsd);
      return best;
    };
    const { configuration } = problem.solver.solve(knobs);
    expect(configuration).toBeDefined();
    const unitMs = sloMs / 400;
    expect(configuration!.costUsd).toBeGreaterThanOrEqual(bruteForce(sloMs) * (1 - 1e-12));
    expect(configuration!.costUsd).toBeLessThanOrEqual(bruteForce(sloMs - 2 * unitMs) * (1 + 1e-12));
    expect(configuration!.latencyMs).toBeLessThanOrEqual(sloMs);
  });
});

describe('planning claims (property)', () => {
  it('every solved configuration satisfies the memory, payload and SLO limits it claims at its planned load', () => {
    let solved = 0;
    fc.assert(
      fc.property(
        fc.record({
          layers: fc.integer({ min: 1, max: 3 }),
          experts: fc.integer({ min: 2, max: 6 }),
          tokensPerBatch: fc.integer({ min: 16, max: 12_000 }),
          topK: fc.constantFrom(1, 2),
          skew: fc.array(fc.double({ min: 0.01, max: 50, noNaN: true }), { minLength: 2, maxLength: 6 }),
          sloFactor: fc.double({ min: 1.01, max: 3, noNaN: true }),
          beta: fc.constantFrom(16, 64, 256, 2048),
          loadQuantile: fc.constantFrom(0.5, 0.8, 0.95, 0.99),
          packingThreshold: fc.constantFrom(0, 0.05, 0.2),
          sloHeadroom: fc.constantFrom(0, 0.1, 0.3),
        }),
        (c) => {
          const input = instance(c);
          const fastest = new PlanningProblem({
            ...input,
            workload: { tokensPerBatch: c.tokensPerBatch, sloMs: 1e9 },
          }).bestAchievableLatencyMs();
          const sloMs = fastest * c.sloFactor;
          const problem = new PlanningProblem({
            ...input,
            workload: { tokensPerBatch: c.tokensPerBatch, sloMs },
          });
          const knobs = {
            beta: c.beta,
            loadQuantile: c.loadQuantile,
            packingThreshold: c.packingThreshold,
            sloHeadroom: c.sloHeadroom,
          };
          const { configuration } = problem.solver.solve(knobs);
          if (!configuration) return;
          solved++;
          const plan = problem.toPlan(configuration, 'bo');
          expect(deploymentPlanSchema.parse(JSON.parse(JSON.stringify(plan)))).toEqual(plan);
          // Cost the plan at the load it was sized for: each function's planned tokens.
          const expertTokens: Record<number, number[]> = {};
          configuration.layers.forEach((layer) => {
            const tokens = new Array<number>(c.experts).fill(0);
            for (const fn of layer.functions) tokens[fn.experts[0]!] = fn.plannedTokens;
            expertTokens[layer.layer] = tokens;
          });
          const atPlanned = planCost(plan, { expertTokens }, problem.profile, problem.prices);
          expect(atPlanned.memoryViolations).toBe(0);
          expect(atPlanned.payloadViolations).toBe(0);
          expect(atPlanned.latencyMs).toBeLessThanOrEqual(sloMs * (1 - c.sloHeadroom) * (1 + 1e-9));
          // At the mean load (what plan.predicted reports) the claims hold too.
          const atMean = planCost(plan, {}, problem.profile, problem.prices);
          expect(plan.predicted.sloMet).toBe(true);
          expect(atMean.memoryViolations + atMean.payloadViolations).toBe(0);
          expect(atMean.latencyMs).toBeLessThanOrEqual(sloMs);
          expect(plan.predicted.costUsdPerBatch).toBeCloseTo(atMean.costUsdPerBatch, 12);
        },
      ),
      { seed: 20261128, numRuns: 40 },
    );
    // The property must not hold vacuously: most random instances are solvable.
    expect(solved).toBeGreaterThanOrEqual(20);
  });
});

describe('planDeployment', () => {
  const base = instance({ layers: 2, experts: 4, tokensPerBatch: 4096, skew: [1, 8, 2, 0.2] });

  it('plans with the BO, meets the SLO and beats LambdaML', async () => {
    const plan = await planDeployment({
      ...base,
      workload: { tokensPerBatch: 4096, sloMs: 5000 },
      maxEvaluations: 15,
    });
    expect(plan.strategy).toBe('bo');
    expect(plan.predicted.sloMet).toBe(true);
    expect(plan.predicted.latencyMs).toBeLessThanOrEqual(5000);
    expect(plan.predicted.costUsdPerBatch).toBeLessThan(plan.baselines.lambdaml!.costUsdPerBatch);
    expect(plan.baselines.cpuCluster!.costUsdPerBatch).toBeGreaterThan(0);
    expect(plan.search?.evaluations).toBeLessThanOrEqual(15);
    expect(deploymentPlanSchema.parse(JSON.parse(JSON.stringify(plan)))).toEqual(plan);
  });

  it('is deterministic for a seed', async () => {
    const run = () =>
      planDeployment({
        ...base,
        workload: { tokensPerBatch: 4096, sloMs: 5000 },
        maxEvaluations: 10,
        seed: 3,
      });
    const [a, b] = await Promise.all([run(), run()]);
    expect({ ...a, search: undefined }).toEqual({ ...b, search: undefined });
  });

  it('raises SLO_INFEASIBLE with the best achievable latency', async () => {
    const error = await planDeployment({
      ...base,
      workload: { tokensPerBatch: 4096, sloMs: 5 },
      maxEvaluations: 8,
    }).catch((e: unknown) => e);
    expect(SwitchyardError.isInstance(error)).toBe(true);
    expect((error as SwitchyardError).code).toBe('SLO_INFEASIBLE');
    const best = (error as { bestAchievableLatencyMs: number }).bestAchievableLatencyMs;
    expect(best).toBeGreaterThan(5);
    expect((error as Error).message).toContain(`${best.toFixed(1)} ms`);
  });

  it('offers the ODS, LambdaML and Power-Tuning baselines', async () => {
    const workload = { tokensPerBatch: 4096, sloMs: 20_000 };
    const lambdaml = await planDeployment({ ...base, workload, strategy: 'lambdaml' });
    for (const layer of lambdaml.layers)
      for (const fn of layer.functions)
        expect([fn.memoryMB, fn.replicas, fn.experts.length]).toEqual([3008, 1, 1]);
    expect(lambdaml.predicted.costUsdPerBatch).toBeCloseTo(lambdaml.baselines.lambdaml!.costUsdPerBatch, 12);
    const ods = await planDeployment({ ...base, workload, strategy: 'ods' });
    expect(ods.strategy).toBe('ods');
    expect(new Set(ods.layers.map((layer) => layer.method)).size).toBe(1);
    const tuning = await planDeployment({ ...base, workload, strategy: 'power-tuning' });
    for (const layer of tuning.layers) for (const fn of layer.functions) expect(fn.replicas).toBe(1);
    const bo = await planDeployment({ ...base, workload, maxEvaluations: 15 });
    expect(bo.predicted.costUsdPerBatch).toBeLessThanOrEqual(tuning.predicted.costUsdPerBatch);
  });

  it('uses a measured evaluation function when given one', async () => {
    const seen: number[] = [];
    const plan = await planDeployment({
      ...base,
      workload: { tokensPerBatch: 4096, sloMs: 5000 },
      maxEvaluations: 8,
      evaluate: async (candidate) => {
        seen.push(candidate.predicted.costUsdPerBatch);
        // A "measurement" that doubles the simulated cost and adds 10 ms.
        return {
          costUsdPerBatch: candidate.predicted.costUsdPerBatch * 2,
          latencyMs: candidate.predicted.latencyMs + 10,
        };
      },
    });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.length).toBeLessThanOrEqual(8);
    expect(plan.search?.bestCostHistory?.at(-1)).toBeCloseTo(Math.min(...seen) * 2, 15);
  });

  it('scores its trials on observed batches when given them, and checks their shape', async () => {
    // Observed batches that all pile onto expert 3 (the forecast's coldest): a plan judged on them
    // must carry that load, so it differs from the one judged on batches sampled from the forecast.
    const heavy = [0, 1, 2, 3].map(() => [0, 1].map(() => [200, 200, 200, 3496]));
    const sampled = await planDeployment({
      ...base,
      workload: { tokensPerBatch: 4096, sloMs: 5000 },
      maxEvaluations: 8,
    });
    const observed = await planDeployment({
      ...base,
      workload: { tokensPerBatch: 4096, sloMs: 5000 },
      maxEvaluations: 8,
      batches: heavy,
    });
    const expert3 = (plan: typeof sampled) =>
      plan.layers.map((layer) => layer.functions.find((fn) => fn.experts.includes(3))!);
    expect(expert3(observed)).not.toEqual(expert3(sampled));
    await expect(planDeployment({ ...base, batches: [[[1, 2, 3, 4]]] })).rejects.toThrow(
      /batches\.0.*1 layers/,
    );
    await expect(
      planDeployment({
        ...base,
        batches: [
          [
            [1, 2, 3],
            [1, 2, 3],
          ],
        ],
      }),
    ).rejects.toThrow(/batches\.0\.0.*3 experts/);
  });

  it('without a feasible trial keeps the one meeting the SLO most often, then the one closest to it', () => {
    const configuration = {
      knobs: { beta: 64, loadQuantile: 0.5, packingThreshold: 0, sloHeadroom: 0 },
      layers: [],
      costUsd: 0,
      latencyMs: 0,
    };
    const trial = (index: number, value: number, sloAttainment: number, slack: number) => ({
      index,
      point: {},
      value,
      feasible: false,
      violations: ['slo'],
      explored: false,
      data: { configuration, minimumLatencyMs: 0, sloAttainment, slack },
    });
    // All miss on every batch: the cheapest (index 0) is the slowest; index 1 comes closest.
    expect(pickMostAttaining([trial(0, 1, 0, 0.5), trial(1, 3, 0, 0.1), trial(2, 2, 0, 0.3)])?.index).toBe(1);
    expect(pickMostAttaining([trial(0, 1, 0, 0.05), trial(1, 3, 0.5, 0.2)])?.index).toBe(1);
    expect(pickMostAttaining([])).toBeUndefined();
  });

  it('rejects a forecast that does not match the model', async () => {
    await expect(
      planDeployment({ ...base, forecast: { ...base.forecast, layers: base.forecast.layers.slice(0, 1) } }),
    ).rejects.toThrow(/forecast has 1 layers/);
  });

  describe('provisioned concurrency', () => {
    const plan = (arrivalRatePerS: number | undefined, provisionedConcurrency?: 'auto' | 'off') =>
      planDeployment({
        ...base,
        workload: { tokensPerBatch: 4096, sloMs: 5000, arrivalRatePerS },
        maxEvaluations: 10,
        seed: 5,
        provisionedConcurrency,
      });
    const withoutProvisioned = (planned: Awaited<ReturnType<typeof plan>>) => {
      const copy = structuredClone(planned);
      for (const layer of copy.layers) for (const fn of layer.functions) delete fn.provisionedConcurrency;
      return copy;
    };
    const provisionedFunctions = (planned: Awaited<ReturnType<typeof plan>>) =>
      planned.layers.flatMap((layer) =>
        layer.functions.filter((fn) => fn.provisionedConcurrency !== undefined),
      );

    it('is chosen where it lowers the cost per batch: busy functions at a high arrival rate', async () => {
      const planned = await plan(40);
      const chosen = provisionedFunctions(planned);
      expect(chosen.length).toBeGreaterThan(0);
      expect(planned.predicted.provisionedUsd).toBeGreaterThan(0);
      expect(planned.predicted.sloMet).toBe(true);
      const profile = base.costProfile;
      const onDemand = planCost(withoutProvisioned(planned), {}, profile);
      const priced = planCost(planned, {}, profile);
      expect(priced.costUsdPerBatch).toBeCloseTo(planned.predicted.costUsdPerBatch, 12);
      expect(priced.costUsdPerBatch).toBeLessThan(onDemand.costUsdPerBatch);
      expect(priced.latencyMs).toBe(onDemand.latencyMs);
      // Each function keeps it only where it pays: taking it off any one of them costs more.
      for (const [l, layer] of planned.layers.entries()) {
        for (const [f, fn] of layer.functions.entries()) {
          if (fn.provisionedConcurrency === undefined) continue;
          const less = structuredClone(planned);
          delete less.layers[l]!.functions[f]!.provisionedConcurrency;
          expect(planCost(less, {}, profile).costUsdPerBatch).toBeGreaterThan(priced.costUsdPerBatch);
        }
      }
    });

    it('is not chosen where instances would mostly idle, without an arrival rate, or when turned off', async () => {
      for (const planned of [await plan(0.05), await plan(undefined), await plan(40, 'off')]) {
        expect(provisionedFunctions(planned)).toEqual([]);
        expect(planned.predicted.provisionedUsd).toBe(0);
      }
    });
  });
});
