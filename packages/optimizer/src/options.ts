import {
  type DeploymentPlan,
  lambdaLimits,
  modelSummarySchema,
  planModelSchema,
  type RandomSource,
  transportMethods,
  wireDtypes,
} from '@switchyard/core';
import { costProfileSchema, type PriceTable } from '@switchyard/cost-model';
import { paperMemoryOptionsMB } from '@switchyard/cost-model/internal';
import { z } from 'zod';
import { loadForecastSchema } from './load-forecast.js';
import type { Point } from './search-space.js';

/**
 * Search strategies. `epsilon-greedy-bo` is the paper's multi-dimensional ε-greedy Bayesian
 * optimisation; the others are baselines: plain GP with the acquisition function, GP with one ε for
 * the whole point, uniform random search, and a coordinate sweep in the style of AWS Lambda Power
 * Tuning (try every value of one dimension with the others fixed at the incumbent, then the next).
 */
export const optimizerStrategies = [
  'epsilon-greedy-bo',
  'gp-ei',
  'single-epsilon',
  'random',
  'sweep',
] as const;
export type OptimizerStrategy = (typeof optimizerStrategies)[number];

export const epsilonScheduleSchema = z
  .object({
    /** ε₀: initial exploration probability per dimension. */
    initial: z.number().min(0).max(1).default(0.3),
    /** ρ: decay of a dimension the last trial did not change. */
    rho: z.number().positive().default(0.4),
    /** ρ₁: decay of a dimension whose last trial violated the memory limit. */
    rhoMemory: z.number().positive().default(0.2),
    /** ρ₂: decay of a dimension whose last trial violated the payload limit. */
    rhoPayload: z.number().positive().default(0.1),
    /** ρ₃: decay of a dimension whose last trial violated nothing. */
    rhoFeasible: z.number().positive().default(0.05),
  })
  .refine((s) => s.rhoFeasible < s.rhoPayload && s.rhoPayload < s.rhoMemory && s.rhoMemory < s.rho, {
    message:
      'the decay rates must satisfy rhoFeasible < rhoPayload < rhoMemory < rho (paper: ρ₃ < ρ₂ < ρ₁ < ρ)',
  });

export const optimizerOptionsSchema = z.object({
  strategy: z.enum(optimizerStrategies).default('epsilon-greedy-bo'),
  acquisition: z.enum(['ei', 'ucb']).default('ei'),
  /** Exploration margin ξ of expected improvement, relative to the spread of observed values. */
  xi: z.number().nonnegative().default(0.01),
  /** κ of the confidence bound. */
  kappa: z.number().nonnegative().default(2),
  /** Random points evaluated before the surrogate is used. */
  initialEvaluations: z.number().int().min(1).default(6),
  // `prefault`: an omitted object is parsed as `{}`, so its defaults are the schedule's own.
  epsilon: epsilonScheduleSchema.prefault({}),
  /** Stop when the best value improved by less than ζ (relative) over the last λ evaluations. */
  stopping: z
    .object({
      zeta: z.number().nonnegative().default(0.001),
      lambda: z.number().int().positive().default(15),
      minEvaluations: z.number().int().nonnegative().default(20),
    })
    .optional(),
  seed: z.number().int().default(0),
  /** Injected source of uniform [0, 1) numbers; overrides `seed`. */
  random: z.custom<RandomSource>((value) => typeof value === 'function').optional(),
  /** Spaces up to this many points are searched exhaustively when maximising the acquisition. */
  enumerateLimit: z.number().int().nonnegative().default(20_000),
  /** Random candidates when the space is too large to enumerate (then refined by local search). */
  candidateCount: z.number().int().positive().default(2048),
  /** Gradient steps when refitting the GP's hyperparameters. */
  fitIterations: z.number().int().positive().default(50),
  /** Past this many observations, hyperparameters are refitted only every `refitEvery` observations. */
  refitAfter: z.number().int().nonnegative().default(40),
  refitEvery: z.number().int().positive().default(5),
  /** Known feasibility test applied to candidates before evaluation (e.g. static limits). */
  isAdmissible: z.custom<(point: Point) => boolean>((value) => typeof value === 'function').optional(),
});

/** What callers pass to `EpsilonGreedyBayesOpt` (defaults may be left out; the logger goes beside it). */
export type OptimizerOptions = z.input<typeof optimizerOptionsSchema>;
/** The optimiser's options with every default applied. */
export type ResolvedOptimizerOptions = z.output<typeof optimizerOptionsSchema>;

/** Planner strategies: ours (`bo`), random search over the same knobs, and the baselines. */
export const plannerStrategies = ['bo', 'random', 'ods', 'lambdaml', 'power-tuning'] as const;
export type PlannerStrategy = (typeof plannerStrategies)[number];

/** The grid of coupled knobs the planner's Bayesian optimisation searches (see `PlannerKnobs`). */
export const knobGridSchema = z.object({
  beta: z.array(z.number().int().positive()).min(1).default([16, 32, 64, 128, 256, 512, 1024, 2048]),
  loadQuantile: z.array(z.number().min(0.5).max(0.999)).min(1).default([0.5, 0.7, 0.8, 0.9, 0.95, 0.99]),
  packingThreshold: z.array(z.number().min(0).max(1)).min(1).default([0, 0.01, 0.02, 0.05, 0.1]),
  sloHeadroom: z.array(z.number().min(0).lt(1)).min(1).default([0, 0.05, 0.1, 0.2, 0.3]),
});
export type KnobGrid = z.output<typeof knobGridSchema>;

/** What a measured evaluation reports for one deployed plan (e.g. a real run through lambda-executor). */
export interface MeasuredEvaluation {
  costUsdPerBatch: number;
  latencyMs: number;
  sloMet?: boolean;
}

/** What the planner needs to know of a model: the plan's model block and the layers that hold MoE blocks. */
export const plannerModelSchema = planModelSchema.extend({
  /** Decoder layer indices that hold MoE blocks. */
  moeLayers: z.array(z.number().int().nonnegative()).min(1),
});
export type PlannerModel = z.output<typeof plannerModelSchema>;

export const planDeploymentOptionsSchema = z.object({
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
    wireDtype: z.enum(wireDtypes).default('f32'),
  }),
  strategy: z.enum(plannerStrategies).default('bo'),
  seed: z.number().int().default(0),
  /** Evaluation budget of the knob search. */
  maxEvaluations: z.number().int().positive().default(40),
  /** Knob settings evaluated concurrently (useful with a measured `evaluate`). */
  batchSize: z.number().int().positive().default(1),
  knobs: knobGridSchema.prefault({}),
  memoryOptionsMB: z
    .array(z.number().int().min(lambdaLimits.minMemoryMB).max(lambdaLimits.maxMemoryMB))
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
  /**
   * Observed batches (`[batch][MoE layer][expert]` tokens, e.g. the calibration trace's) to score
   * trials on instead of sampling from the forecast: sampling draws every expert independently,
   * real batches keep how experts and layers move together.
   */
  batches: z
    .array(z.array(z.array(z.number().nonnegative())))
    .min(1)
    .optional(),
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
  signal: z.custom<AbortSignal>().optional(),
  /** Timestamp written into the plan (default: now). */
  createdAt: z.string().optional(),
  /**
   * 'auto': give a function provisioned concurrency where it lowers the predicted cost per batch at
   * `workload.arrivalRatePerS` (needs the rate; the baselines lambdaml and power-tuning never do);
   * 'off': every function on demand.
   */
  provisionedConcurrency: z.enum(['auto', 'off']).default('auto'),
});
/** What callers pass to `planDeployment` (defaults may be left out; the logger goes beside it). */
export type PlanDeploymentOptions = z.input<typeof planDeploymentOptionsSchema>;
/** The planner's options with every default applied. */
export type ResolvedPlanDeploymentOptions = z.output<typeof planDeploymentOptionsSchema>;
