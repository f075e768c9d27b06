import {
  createRandom,
  type DeploymentPlan,
  deploymentPlanSchema,
  type Logger,
  type ModelSummary,
  modelSummarySchema,
  noopLogger,
  parseWithSchema,
  transportMethods,
} from '@switchyard/core';
import {
  type CostProfile,
  computeTimeAtThreadsMs,
  costProfileSchema,
  defaultPriceTable,
  ec2Instance,
  type PriceTable,
  planCost,
  resolveRates,
} from '@switchyard/cost-model';
import { CostEvaluator, lambdaMlMemoryMB, paperMemoryOptionsMB } from '@switchyard/cost-model/internal';
import { z } from 'zod';
import { fixedConfiguration, odsConfiguration } from './baseline-strategies.js';
import { type Configuration, DeploymentSolver, type PlannerKnobs } from './deployment-solver.js';
import { EpsilonGreedyBayesOpt, type Trial, type TrialResult } from './epsilon-greedy-bayes-opt.js';
import { OptimizerError, SloInfeasibleError } from './errors.js';
import {
  type ExpertLoad,
  expertLoads,
  type LoadForecast,
  loadForecastSchema,
  sampleBatchLoads,
} from './load-forecast.js';
import { knobGridSchema, plannerStrategies } from './options.js';
import { type PlannerModel, paperShape, plannerModelFromSummary } from './paper-shapes.js';
import type { Dimension, Point } from './search-space.js';

/** What a measured evaluation reports for one deployed plan (e.g. a real run through lambda-executor). */
export interface MeasuredEvaluation {
  costUsdPerBatch: number;
  latencyMs: number;
  sloMet?: boolean;
}

const plannerModelSchema = z.object({
  name: z.string(),
  fingerprint: z.string(),
  architecture: z.string(),
  hiddenSize: z.number().int().positive(),
  expertIntermediateSize: z.number().int().positive(),
  numExperts: z.number().int().positive(),
  topK: z.number().int().positive(),
  bytesPerExpert: z.number().int().nonnegative(),
  moeLayers: z.array(z.number().int().nonnegative()).min(1),
});

export const planDeploymentInputSchema = z.object({
  /** A `ModelSummary`, a planner model, or a paper shape name such as `bert-moe-12x4`. */
  model: z.union([z.string(), modelSummarySchema, plannerModelSchema]),
  /** Predicted load per MoE layer × expert for one batch (mean and interval). */
  forecast: loadForecastSchema,
  costProfile: costProfileSchema,
  prices: z.custom<PriceTable>().optional(),
  region: z.string().default('us-east-1'),
  arch: z.enum(['x86_64', 'arm64']).default('x86_64'),
  workload: z.object({
    tokensPerBatch: z.number().int().positive(),
    sloMs: z.number().positive(),
    arrivalRatePerS: z.number().nonnegative().optional(),
    wireDtype: z.enum(['f32', 'f16', 'bf16']).default('f32'),
  }),
  strategy: z.enum(plannerStrategies).default('bo'),
  seed: z.number().int().default(0),
  /** Evaluation budget of the knob search. */
  maxEvaluations: z.number().int().positive().default(40),
  /** Knob settings evaluated concurrently (useful with a measured `evaluate`). */
  batchSize: z.number().int().positive().default(1),
  knobs: knobGridSchema.default(knobGridSchema.parse({})),
  memoryOptionsMB: z
    .array(z.number().int().min(128).max(10240))
    .min(1)
    .default([...paperMemoryOptionsMB]),
  /** G: the most replicas one function gets (paper: 8). */
  maxReplicas: z.number().int().min(1).max(64).default(8),
  methods: z
    .array(z.enum(transportMethods))
    .min(1)
    .default([...transportMethods]),
  /** Simulated evaluation: batches sampled from the forecast, and the share that must meet the SLO. */
  sampledBatches: z.number().int().positive().default(16),
  sloAttainment: z.number().min(0).max(1).default(0.9),
  /** Measured evaluation: deploy/run the plan and report its cost and latency. */
  evaluate: z
    .custom<(plan: DeploymentPlan) => Promise<MeasuredEvaluation>>((v) => typeof v === 'function')
    .optional(),
  onProgress: z
    .custom<
      (progress: { evaluations: number; maxEvaluations: number; bestCostUsd: number | undefined }) => void
    >((v) => typeof v === 'function')
    .optional(),
  logger: z.custom<Logger>().optional(),
  signal: z.custom<AbortSignal>().optional(),
  /** Timestamp written into the plan (default: now). */
  createdAt: z.string().optional(),
});
export type PlanDeploymentInput = z.input<typeof planDeploymentInputSchema>;
type ResolvedInput = z.output<typeof planDeploymentInputSchema>;

function resolveModel(model: ResolvedInput['model']): PlannerModel {
  if (typeof model === 'string')
    return paperShape(model.startsWith('paper:') ? model.slice('paper:'.length) : model);
  if ('moeLayers' in model && 'numLayers' in model) return plannerModelFromSummary(model as ModelSummary);
  return model as PlannerModel;
}

/** What a simulated planning trial keeps: the solved configuration and how it fared. */
export interface PlanningTrialData {
  configuration: Configuration | undefined;
  minimumLatencyMs: number;
  /** Share of sampled batches that met the SLO. */
  sloAttainment: number;
}

/**
 * A planning problem over the coupled knobs: each point of `dimensions` is solved exactly by
 * `DeploymentSolver` and scored on batches sampled from the forecast (mean billed cost; feasible
 * when the SLO is met on at least `sloAttainment` of them). Used by `planDeployment` and the
 * planning benchmark.
 */
export class PlanningProblem {
  readonly input: ResolvedInput;
  readonly model: PlannerModel;
  readonly forecast: LoadForecast;
  readonly loads: ExpertLoad[][];
  readonly solver: DeploymentSolver;
  readonly dimensions: Dimension[];
  readonly profile: CostProfile;
  readonly prices: PriceTable;
  private readonly batches: number[][][];

  constructor(input: PlanDeploymentInput) {
    this.input = parseWithSchema(planDeploymentInputSchema, input, 'planDeployment input');
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
    const rates = resolveRates({ region: this.input.region, arch: this.input.arch }, this.prices);
    const evaluator = new CostEvaluator({
      rates,
      compute: this.profile.compute,
      transport: this.profile.transport,
      hiddenSize: this.model.hiddenSize,
      expertIntermediateSize: this.model.expertIntermediateSize,
      wireDtype: this.input.workload.wireDtype,
      runtimeOverheadMB: this.profile.runtimeOverheadMB,
      ...(this.profile.intermediateBytesPerToken === undefined
        ? {}
        : { intermediateBytesPerToken: this.profile.intermediateBytesPerToken }),
      ephemeralStorageMB: this.profile.ephemeralStorageMB,
      ...(this.profile.invocationOverhead === undefined
        ? {}
        : { invocationOverhead: this.profile.invocationOverhead }),
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
    this.batches = Array.from({ length: this.input.sampledBatches }, () =>
      sampleBatchLoads(this.loads, random),
    );
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
        data: { configuration, minimumLatencyMs, sloAttainment: 0 },
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
      data: { configuration, minimumLatencyMs, sloAttainment: scored.sloAttainment },
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

  /** Builds the core deployment plan for a configuration, costed with `planCost` at the mean load. */
  toPlan(
    configuration: Configuration,
    strategy: DeploymentPlan['strategy'],
    search?: DeploymentPlan['search'],
  ): DeploymentPlan {
    const prefix = functionPrefix(this.model.name);
    const plan = {
      kind: 'switchyard.deployment-plan' as const,
      version: 1 as const,
      createdAt: this.input.createdAt ?? new Date().toISOString(),
      strategy,
      model: {
        name: this.model.name,
        fingerprint: this.model.fingerprint,
        architecture: this.model.architecture,
        hiddenSize: this.model.hiddenSize,
        expertIntermediateSize: this.model.expertIntermediateSize,
        numExperts: this.model.numExperts,
        topK: this.model.topK,
        bytesPerExpert: this.model.bytesPerExpert,
      },
      workload: {
        tokensPerBatch: this.input.workload.tokensPerBatch,
        sloMs: this.input.workload.sloMs,
        ...(this.input.workload.arrivalRatePerS === undefined
          ? {}
          : { arrivalRatePerS: this.input.workload.arrivalRatePerS }),
        wireDtype: this.input.workload.wireDtype,
        loadQuantile: Math.min(0.999, Math.max(0.5, configuration.knobs.loadQuantile)),
      },
      arch: this.input.arch,
      region: this.input.region,
      priceTable: { version: this.prices.version, date: this.prices.date },
      layers: configuration.layers.map((layer, l) => {
        const forecastLayer = this.forecast.layers[l]!;
        const functions = layer.functions.map((fn) => {
          const name =
            fn.experts.length === 1
              ? `${prefix}-l${layer.layer}-e${fn.experts[0]}`
              : `${prefix}-l${layer.layer}-p${fn.experts[0]}x${fn.experts.length}`;
          return {
            name,
            experts: [...fn.experts],
            memoryMB: fn.memoryMB,
            replicas: fn.replicas,
            functionNames: Array.from({ length: fn.replicas }, (_, r) => `${name}-r${r}`),
          };
        });
        const experts = forecastLayer.mean
          .map((mean, expert) => ({
            expert,
            functionIndex: layer.functions.findIndex((fn) => fn.experts.includes(expert)),
            predictedTokens: mean,
            predictedTokensLow: forecastLayer.low[expert]!,
            predictedTokensHigh: forecastLayer.high[expert]!,
          }))
          .sort((a, b) => a.expert - b.expert);
        return {
          layer: layer.layer,
          method: layer.method,
          beta: layer.beta,
          latencyBudgetMs: layer.budgetMs,
          predictedLatencyMs: 0,
          predictedCostUsd: 0,
          functions,
          experts,
        };
      }),
      predicted: { costUsdPerBatch: 0, latencyMs: 0, computeUsd: 0, requestUsd: 0, sloMet: false },
      baselines: {},
      ...(search ? { search } : {}),
    };
    const draft = deploymentPlanSchema.parse(plan);
    const report = planCost(draft, {}, this.profile, this.prices);
    draft.layers.forEach((layer, l) => {
      layer.predictedLatencyMs = report.layers[l]!.latencyMs;
      layer.predictedCostUsd = report.layers[l]!.totalUsd;
    });
    draft.predicted = {
      costUsdPerBatch: report.costUsdPerBatch,
      latencyMs: report.latencyMs,
      gbSecondsPerBatch: report.gbSecondsPerBatch,
      costUsdPerMillionTokens: report.costUsdPerMillionTokens,
      throughputTokensPerS: report.throughputTokensPerS,
      computeUsd: report.computeUsd,
      requestUsd: report.requestUsd,
      storageUsd: report.storageUsd,
      s3Usd: report.s3Usd,
      sloMet: report.sloMet && report.memoryViolations === 0 && report.payloadViolations === 0,
    };
    return parseWithSchema(deploymentPlanSchema, draft, 'planned deployment', 'PLAN_INVALID');
  }

  /** Tokens per layer × expert at the plan's quantile (what replicas are sized for), for checks. */
  plannedTokens(loadQuantile: number): number[][] {
    return this.solver
      .groups({ loadQuantile, packingThreshold: 0 })
      .map((groups) =>
        groups.sort((a, b) => a.experts[0]! - b.experts[0]!).map((group) => group.plannedTokens),
      );
  }

  /** The LambdaML and CPU-cluster baselines at the mean load. */
  baselines(): DeploymentPlan['baselines'] {
    const knobs: PlannerKnobs = { beta: 64, loadQuantile: 0.5, packingThreshold: 0, sloHeadroom: 0 };
    const baselines: DeploymentPlan['baselines'] = {};
    const lambdaml = fixedConfiguration(this.solver, knobs, { kind: 'lambdaml', memoryMB: lambdaMlMemoryMB });
    if (lambdaml) {
      const plan = this.toPlan(lambdaml, 'lambdaml');
      baselines.lambdaml = {
        costUsdPerBatch: plan.predicted.costUsdPerBatch,
        latencyMs: plan.predicted.latencyMs,
        ...(plan.predicted.throughputTokensPerS === undefined
          ? {}
          : { throughputTokensPerS: plan.predicted.throughputTokensPerS }),
      };
    }
    baselines.cpuCluster = this.cpuClusterBaseline();
    return baselines;
  }

  /**
   * The paper's CPU cluster (2 × 64-core EPYC, 512 GB; priced as one m6a.32xlarge, 128 vCPUs): each
   * layer runs its experts side by side, each on an equal share of the 64 physical cores, using the
   * compute profile's thread scaling; billed per second of the batch at the on-demand hourly price.
   */
  cpuClusterBaseline(): { costUsdPerBatch: number; latencyMs: number; throughputTokensPerS: number } {
    const instance = ec2Instance('m6a.32xlarge', this.input.region, this.prices);
    const cores = Math.max(1, Math.floor(instance.vcpus / 2));
    const threadsPerExpert = Math.max(1, Math.floor(cores / this.model.numExperts));
    let latencyMs = 0;
    for (const layer of this.loads) {
      let layerMs = 0;
      for (const load of layer) {
        const tokens = Math.round(load.mean);
        if (tokens > 0)
          layerMs = Math.max(layerMs, computeTimeAtThreadsMs(this.profile.compute, tokens, threadsPerExpert));
      }
      latencyMs += layerMs;
    }
    const usdPerHour = instance.usdPerHour.value;
    return {
      costUsdPerBatch: (usdPerHour / 3_600_000) * latencyMs,
      latencyMs,
      throughputTokensPerS: latencyMs > 0 ? this.input.workload.tokensPerBatch / (latencyMs / 1000) : 0,
    };
  }
}

function invalid(message: string, location: string): never {
  throw new OptimizerError({ code: 'INVALID_INPUT', message, location });
}

function functionPrefix(modelName: string): string {
  const cleaned = modelName
    .replace(/^paper:/, '')
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `sy-${cleaned.slice(0, 36) || 'model'}`;
}

/**
 * Plans a serverless MoE deployment: memory and replicas per expert function, transport method
 * and β per layer, packing of cold experts, and the split of the SLO across layers — minimising the
 * billed cost of the MoE layers. Strategy `bo` searches the coupled knobs with
 * `EpsilonGreedyBayesOpt` and solves the rest exactly per trial; `ods`, `lambdaml` and
 * `power-tuning` are the baselines. Throws SLO_INFEASIBLE (with the best achievable latency) when
 * no deployment meets the SLO.
 */
export async function planDeployment(input: PlanDeploymentInput): Promise<DeploymentPlan> {
  const started = Date.now();
  const problem = new PlanningProblem(input);
  const options = problem.input;
  const logger = options.logger ?? noopLogger;
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
      ...(options.signal ? { signal: options.signal } : {}),
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
    throw new SloInfeasibleError(options.workload.sloMs, problem.bestAchievableLatencyMs());
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

/** With no feasible trial: the solved configuration that met the SLO on most sampled batches. */
function pickMostAttaining(trials: readonly Trial[]): Trial | undefined {
  let best: Trial | undefined;
  let bestAttainment = -1;
  for (const trial of trials) {
    const data = trial.data as PlanningTrialData | undefined;
    if (!data?.configuration) continue;
    if (
      data.sloAttainment > bestAttainment ||
      (data.sloAttainment === bestAttainment && trial.value < best!.value)
    ) {
      best = trial;
      bestAttainment = data.sloAttainment;
    }
  }
  return best;
}
