import type { DeploymentPlan } from '@switchyard/core';
import { computeTimeAtThreadsMs, ec2Instance } from '@switchyard/cost-model';
import { lambdaMlMemoryMB } from '@switchyard/cost-model/internal';
import { fixedConfiguration } from './baseline-strategies.js';
import type { PlannerKnobs } from './configuration.js';
import type { PlanningProblem } from './planning-problem.js';

/** The LambdaML and CPU-cluster baselines of a plan (`plan.baselines`), at the forecast's mean load. */
export function planBaselines(problem: PlanningProblem): DeploymentPlan['baselines'] {
  const knobs: PlannerKnobs = { beta: 64, loadQuantile: 0.5, packingThreshold: 0, sloHeadroom: 0 };
  const baselines: DeploymentPlan['baselines'] = {};
  const lambdaml = fixedConfiguration(problem.solver, knobs, {
    kind: 'lambdaml',
    memoryMB: lambdaMlMemoryMB,
  });
  if (lambdaml) {
    const plan = problem.toPlan(lambdaml, 'lambdaml');
    baselines.lambdaml = {
      costUsdPerBatch: plan.predicted.costUsdPerBatch,
      latencyMs: plan.predicted.latencyMs,
      throughputTokensPerS: plan.predicted.throughputTokensPerS,
    };
  }
  baselines.cpuCluster = cpuClusterFigures(problem);
  return baselines;
}

/**
 * The paper's CPU cluster (2 × 64-core EPYC, 512 GB; priced as one m6a.32xlarge, 128 vCPUs): each
 * layer runs its experts side by side, each on an equal share of the 64 physical cores, using the
 * compute profile's thread scaling; billed per second of the batch at the on-demand hourly price.
 */
export function cpuClusterFigures(
  problem: Pick<PlanningProblem, 'input' | 'prices' | 'model' | 'loads' | 'profile'>,
): { costUsdPerBatch: number; latencyMs: number; throughputTokensPerS: number } {
  const instance = ec2Instance('m6a.32xlarge', problem.input.region, problem.prices);
  const cores = Math.max(1, Math.floor(instance.vcpus / 2));
  const threadsPerExpert = Math.max(1, Math.floor(cores / problem.model.numExperts));
  let latencyMs = 0;
  for (const layer of problem.loads) {
    let layerMs = 0;
    for (const load of layer) {
      const tokens = Math.round(load.mean);
      if (tokens > 0)
        layerMs = Math.max(
          layerMs,
          computeTimeAtThreadsMs(problem.profile.compute, tokens, threadsPerExpert),
        );
    }
    latencyMs += layerMs;
  }
  const usdPerHour = instance.usdPerHour.value;
  return {
    costUsdPerBatch: (usdPerHour / 3_600_000) * latencyMs,
    latencyMs,
    throughputTokensPerS: latencyMs > 0 ? problem.input.workload.tokensPerBatch / (latencyMs / 1000) : 0,
  };
}
