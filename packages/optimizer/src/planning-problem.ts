import { createRandom, type DeploymentPlan, type ModelSummary, parseWithSchema } from '@switchyard/core';
import { type CostProfile, defaultPriceTable, type PriceTable, resolveRates } from '@switchyard/cost-model';
import { createCostEvaluator } from '@switchyard/cost-model/internal';
import type { Configuration, PlannerKnobs } from './configuration.js';
import { DeploymentSolver } from './deployment-solver.js';
import { OptimizerError } from './errors.js';
import { type ExpertLoad, expertLoads, type LoadForecast, sampleBatchLoads } from './load-forecast.js';
import {
  type PlanDeploymentOptions,
  type PlannerModel,
  planDeploymentOptionsSchema,
  type ResolvedPlanDeploymentOptions,
} from './options.js';
import { paperShape, plannerModelFromSummary } from './paper-shapes.js';
import { cpuClusterFigures, planBaselines } from './plan-baselines.js';
import { configurationToPlan } from './plan-document.js';
import type { Dimension, Point } from './search-space.js';
import type { TrialResult } from './trial.js';

/** What a simulated planning trial keeps: the solved configuration and how it fared. */
export interface PlanningTrialData {
  configuration: Configuration | undefined;
  minimumLatencyMs: number;
  /** Share of sampled batches that met the SLO. */
  sloAttainment: number;
  /** (latency of the batch at the attainment rank − SLO) ÷ SLO; Infinity without a configuration. */
  slack: number;
}

function resolveModel(model: ResolvedPlanDeploymentOptions['model']): PlannerModel {
  if (typeof model === 'string')
    return paperShape(model.startsWith('paper:') ? model.slice('paper:'.length) : model);
  if ('moeLayers' in model && 'numLayers' in model) return plannerModelFromSummary(model as ModelSummary);
  return model as PlannerModel;
}

function invalid(message: string, location: string): never {
  throw new OptimizerError({ code: 'INVALID_INPUT', message, location });
}

/**
 * A planning problem over the coupled knobs: each point of `dimensions` is solved exactly by
 * `DeploymentSolver` and scored on batches sampled from the forecast (mean billed cost; feasible
 * when the SLO is met on at least `sloAttainment` of them). Used by `planDeployment` and the
 * planning benchmark.
 */
export class PlanningProblem {
  readonly input: ResolvedPlanDeploymentOptions;
  readonly model: PlannerModel;
  readonly forecast: LoadForecast;
  readonly loads: ExpertLoad[][];
  readonly solver: DeploymentSolver;
  readonly dimensions: Dimension[];
  readonly profile: CostProfile;
  readonly prices: PriceTable;
  private readonly batches: number[][][];

  constructor(input: PlanDeploymentOptions) {
    this.input = parseWithSchema(planDeploymentOptionsSchema, input, 'planDeployment input');
    this.model = resolveModel(this.input.model);
    this.forecast = this.input.forecast;
    this.profile = this.input.costProfile;
    this.prices = this.input.prices ?? defaultPriceTable;
    if (this.forecast.layers.length !== this.model.moeLayers.length) {
      invalid(
        `the forecast has ${this.forecast.layers.length} layers but the model has ${this.model.moeLayers.length} MoE layers`,
        'forecast.layers',
      );
    }
    this.forecast.layers.forEach((layer, index) => {
      if (layer.mean.length !== this.model.numExperts)
        invalid(
          `expected ${this.model.numExperts} experts, got ${layer.mean.length}`,
          `forecast.layers.${index}.mean`,
        );
    });
    this.loads = expertLoads(this.forecast);
    const evaluator = createCostEvaluator({
      rates: resolveRates({ region: this.input.region, arch: this.input.arch }, this.prices),
      profile: this.profile,
      hiddenSize: this.model.hiddenSize,
      expertIntermediateSize: this.model.expertIntermediateSize,
      wireDtype: this.input.workload.wireDtype,
    });
    this.solver = new DeploymentSolver({
      evaluator,
      layerIndices: this.forecast.layers.map((layer) => layer.layer),
      loads: this.loads,
      bytesPerExpert: this.model.bytesPerExpert,
      memoryOptionsMB: [...this.input.memoryOptionsMB].sort((a, b) => a - b),
      maxReplicas: this.input.maxReplicas,
      methods: this.input.methods,
      sloMs: this.input.workload.sloMs,
    });
    const grid = this.input.knobs;
    const ordinal = (name: keyof PlannerKnobs, values: number[]): Dimension => ({
      kind: 'ordinal',
      name,
      values: [...new Set(values)].sort((a, b) => a - b),
    });
    this.dimensions = [
      ordinal('beta', grid.beta),
      ordinal('loadQuantile', grid.loadQuantile),
      ordinal('packingThreshold', grid.packingThreshold),
      ordinal('sloHeadroom', grid.sloHeadroom),
    ];
    const random = createRandom(this.input.seed ^ 0x5eed);
    this.batches =
      this.input.batches ??
      Array.from({ length: this.input.sampledBatches }, () => sampleBatchLoads(this.loads, random));
    this.batches.forEach((batch, b) => {
      if (batch.length !== this.model.moeLayers.length)
        invalid(
          `batches.${b} has ${batch.length} layers, the model ${this.model.moeLayers.length} MoE layers`,
          `batches.${b}`,
        );
      batch.forEach((layer, l) => {
        if (layer.length !== this.model.numExperts)
          invalid(
            `batches.${b}.${l} has ${layer.length} experts, the model ${this.model.numExperts}`,
            `batches.${b}.${l}`,
          );
      });
    });
  }

  /** Knobs of a search point. */
  knobsOf(point: Point): PlannerKnobs {
    return {
      beta: point.beta as number,
      loadQuantile: point.loadQuantile as number,
      packingThreshold: point.packingThreshold as number,
      sloHeadroom: point.sloHeadroom as number,
    };
  }

  /** Simulated evaluation of one knob setting. `data` holds the configuration. */
  evaluate(point: Point): TrialResult & { data: PlanningTrialData } {
    const { configuration, minimumLatencyMs } = this.solver.solve(this.knobsOf(point));
    if (!configuration) {
      const budgetMs = this.input.workload.sloMs * (1 - (point.sloHeadroom as number));
      return {
        value: Number.POSITIVE_INFINITY,
        feasible: false,
        constraints: [Math.max(0.01, (minimumLatencyMs - budgetMs) / this.input.workload.sloMs)],
        violations: ['slo'],
        data: { configuration, minimumLatencyMs, sloAttainment: 0, slack: Number.POSITIVE_INFINITY },
      };
    }
    const scored = this.solver.evaluateOnBatches(configuration, this.batches);
    const violations: string[] = [];
    if (scored.memoryRepairs > 0) violations.push('memory');
    if (scored.payloadRepairs > 0) violations.push('payload');
    // Constraint: the batch latency at the attainment quantile, relative to the SLO (≤ 0 = met).
    const latencies = scored.batchLatenciesMs;
    const rank = Math.min(
      latencies.length - 1,
      Math.max(0, Math.ceil(this.input.sloAttainment * latencies.length) - 1),
    );
    const slack = (latencies[rank]! - this.input.workload.sloMs) / this.input.workload.sloMs;
    const feasible = slack <= 0;
    if (!feasible) violations.push('slo');
    return {
      value: scored.meanCostUsd,
      feasible,
      constraints: [slack],
      violations,
      data: { configuration, minimumLatencyMs, sloAttainment: scored.sloAttainment, slack },
    };
  }

  /** Lowest latency any knob setting reaches at the mean load (for the SLO_INFEASIBLE message). */
  bestAchievableLatencyMs(): number {
    let best = Number.POSITIVE_INFINITY;
    // A solver without the SLO's pruning of slow options.
    const unbounded = new DeploymentSolver({ ...this.solver.context, sloMs: Number.POSITIVE_INFINITY });
    for (const beta of this.input.knobs.beta) {
      const { minimumLatencyMs } = unbounded.solve({
        beta,
        loadQuantile: 0.5,
        packingThreshold: 0,
        sloHeadroom: 0,
      });
      best = Math.min(best, minimumLatencyMs);
    }
    return best;
  }

  /** The core deployment plan of a configuration, costed with `planCost` at the mean load. */
  toPlan(
    configuration: Configuration,
    strategy: DeploymentPlan['strategy'],
    search?: DeploymentPlan['search'],
  ): DeploymentPlan {
    return configurationToPlan(this, configuration, strategy, search);
  }

  /** Tokens per layer × expert at the plan's quantile (what replicas are sized for), for checks. */
  plannedTokens(loadQuantile: number): number[][] {
    return this.solver
      .groups({ loadQuantile, packingThreshold: 0 })
      .map((groups) =>
        groups.sort((a, b) => a.experts[0]! - b.experts[0]!).map((group) => group.plannedTokens),
      );
  }

  /** The LambdaML and CPU-cluster baselines at the mean load (`plan.baselines`). */
  baselines(): DeploymentPlan['baselines'] {
    return planBaselines(this);
  }

  /** The paper's CPU cluster billed per busy second (see `cpuClusterFigures`). */
  cpuClusterBaseline(): { costUsdPerBatch: number; latencyMs: number; throughputTokensPerS: number } {
    return cpuClusterFigures(this);
  }
}
