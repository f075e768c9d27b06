import {
  type DeploymentPlan,
  deploymentPlanSchema,
  type Logger,
  noopLogger,
  parseWithSchema,
} from '@switchyard/core';
import { lambdaMlMemoryMB } from '@switchyard/cost-model/internal';
import { fixedConfiguration, odsConfiguration } from './baseline-strategies.js';
import type { Configuration, PlannerKnobs } from './configuration.js';
import { EpsilonGreedyBayesOpt } from './epsilon-greedy-bayes-opt.js';
import { SloInfeasibleError } from './errors.js';
import type { PlanDeploymentOptions } from './options.js';
import { PlanningProblem, type PlanningTrialData } from './planning-problem.js';
import type { Point } from './search-space.js';
import type { Trial, TrialResult } from './trial.js';

/**
 * Plans a serverless MoE deployment: memory and replicas per expert function, transport method
 * and β per layer, packing of cold experts, and the split of the SLO across layers — minimising the
 * billed cost of the MoE layers. Strategy `bo` searches the coupled knobs with
 * `EpsilonGreedyBayesOpt` and solves the rest exactly per trial; `ods`, `lambdaml` and
 * `power-tuning` are the baselines. Throws `SloInfeasibleError` (SLO_INFEASIBLE, with the best
 * achievable latency) when no deployment meets the SLO.
 */
export async function planDeployment(
  input: PlanDeploymentOptions & { logger?: Logger | undefined },
): Promise<DeploymentPlan> {
  const started = Date.now();
  const problem = new PlanningProblem(input);
  const options = problem.input;
  const logger = input.logger ?? noopLogger;
  const strategy = options.strategy;
  let configuration: Configuration | undefined;
  let search: DeploymentPlan['search'];

  if (strategy === 'bo' || strategy === 'random') {
    const optimizer = new EpsilonGreedyBayesOpt(problem.dimensions, {
      strategy: strategy === 'bo' ? 'epsilon-greedy-bo' : 'random',
      seed: options.seed,
      stopping: { zeta: 0.001, lambda: 10, minEvaluations: 20 },
      logger,
    });
    const measured = options.evaluate;
    const evaluate = async (point: Point): Promise<TrialResult> => {
      const simulated = problem.evaluate(point);
      if (!measured || !simulated.data.configuration) return simulated;
      const plan = problem.toPlan(simulated.data.configuration, strategy);
      const result = await measured(plan);
      const sloMet = result.sloMet ?? result.latencyMs <= options.workload.sloMs;
      return {
        value: result.costUsdPerBatch,
        feasible: sloMet,
        violations: sloMet ? [] : ['slo'],
        data: simulated.data,
      };
    };
    const result = await optimizer.run(evaluate, {
      maxEvaluations: options.maxEvaluations,
      batchSize: options.batchSize,
      signal: options.signal,
      onProgress: (progress) =>
        options.onProgress?.({
          evaluations: progress.evaluations,
          maxEvaluations: progress.maxEvaluations,
          bestCostUsd: progress.bestValue,
        }),
    });
    const chosen: Trial | undefined = result.best ?? pickMostAttaining(result.trials);
    configuration = (chosen?.data as PlanningTrialData | undefined)?.configuration;
    search = {
      evaluations: result.evaluations,
      seed: options.seed,
      elapsedMs: Date.now() - started,
      bestCostHistory: result.bestValueHistory.map((value) => (Number.isFinite(value) ? value : -1)),
    };
    if (!result.best && configuration)
      logger.warn?.(
        'no knob setting met the SLO on enough sampled batches; returning the one that came closest',
      );
  } else if (strategy === 'ods') {
    const { configuration: found, iterations } = odsConfiguration(problem.solver, defaultKnobs(problem));
    configuration = found;
    search = {
      evaluations: iterations + problem.solver.context.methods.length,
      seed: options.seed,
      elapsedMs: Date.now() - started,
    };
  } else {
    configuration = fixedConfiguration(
      problem.solver,
      defaultKnobs(problem),
      strategy === 'lambdaml' ? { kind: 'lambdaml', memoryMB: lambdaMlMemoryMB } : { kind: 'power-tuning' },
    );
    search = { evaluations: 1, seed: options.seed, elapsedMs: Date.now() - started };
  }

  if (!configuration) {
    throw new SloInfeasibleError({
      sloMs: options.workload.sloMs,
      bestAchievableLatencyMs: problem.bestAchievableLatencyMs(),
    });
  }
  const plan = problem.toPlan(configuration, strategy, search);
  plan.baselines = problem.baselines();
  if (search) search.elapsedMs = Date.now() - started;
  return parseWithSchema(deploymentPlanSchema, plan, 'planned deployment', 'PLAN_INVALID');
}

function defaultKnobs(problem: PlanningProblem): PlannerKnobs {
  const betas = problem.input.knobs.beta;
  return {
    beta: betas.includes(64) ? 64 : betas[0]!,
    loadQuantile: 0.5,
    packingThreshold: 0,
    sloHeadroom: 0,
  };
}

/**
 * With no feasible trial: the solved configuration that met the SLO on most sampled batches, and of
 * those the one closest to meeting it (not the cheapest: among plans that all miss, that is the slowest).
 */
export function pickMostAttaining(trials: readonly Trial[]): Trial | undefined {
  let best: Trial | undefined;
  let bestData: PlanningTrialData | undefined;
  for (const trial of trials) {
    const data = trial.data as PlanningTrialData | undefined;
    if (!data?.configuration) continue;
    if (
      !bestData ||
      data.sloAttainment > bestData.sloAttainment ||
      (data.sloAttainment === bestData.sloAttainment && data.slack < bestData.slack)
    ) {
      best = trial;
      bestData = data;
    }
  }
  return best;
}
