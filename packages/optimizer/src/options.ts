import type { Logger, RandomSource } from '@switchyard/core';
import { z } from 'zod';
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
  epsilon: epsilonScheduleSchema.default({
    initial: 0.3,
    rho: 0.4,
    rhoMemory: 0.2,
    rhoPayload: 0.1,
    rhoFeasible: 0.05,
  }),
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
  logger: z.custom<Logger>().optional(),
});

export type OptimizerOptions = z.input<typeof optimizerOptionsSchema>;
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
