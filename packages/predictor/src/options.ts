import type { Logger } from '@switchyard/core';
import { z } from 'zod';

export const predictorStrategies = ['default', 'paper'] as const;
export type PredictorStrategy = (typeof predictorStrategies)[number];

/**
 * Options of `fitPredictor`. Nothing here is a tuning constant for accuracy: concentrations come
 * from empirical Bayes and the interval width from cross-fitting; these only pick structure.
 */
export const fitOptionsSchema = z.object({
  /** `default`: hierarchical Dirichlet-multinomial with back-off; `paper`: the paper's eq. 1 table. */
  strategy: z.enum(predictorStrategies).default('default'),
  /** How many preceding tokens (n-gram context) the back-off ladder may use (default strategy). */
  contextTokens: z.number().int().min(0).max(8).default(3),
  /** Whether layer l may condition on the actual routing of layer l − 1 (known at dispatch time). */
  usePreviousLayer: z.boolean().default(true),
  /** Whether the ladder uses the paper's attention id (f3) when the trace records it. */
  useAttention: z.boolean().default(true),
  /** Nominal coverage of the load intervals. */
  intervalLevel: z.number().gt(0).lt(1).default(0.9),
  /** Tokens per batch used to calibrate the intervals on cross-fitted calibration folds (DESIGN.md §3 B). */
  batchTokens: z.number().int().positive().default(1024),
  /** Contiguous folds of the calibration data for cross-fitting (interval and drift calibration). */
  calibrationFolds: z.number().int().min(2).max(20).default(4),
  /** Half-life of online forgetting in observed tokens; null = never forget (pure conjugate update). */
  halfLifeTokens: z.number().positive().nullable().default(null),
  /** Drift is flagged when the recent log-likelihood falls this many batch standard deviations below calibration. */
  driftThreshold: z.number().positive().default(3),
  /** Per-layer expert loads to use as the base measure of the global level (aggregated-count prior). */
  priorExpertLoad: z.array(z.array(z.number().nonnegative())).optional(),
  /** Fixed concentrations [layer][level] instead of empirical Bayes (tests, reproductions). */
  concentrations: z.array(z.array(z.number().positive())).optional(),
  logger: z.custom<Logger>().optional(),
});

export type FitOptions = z.input<typeof fitOptionsSchema>;
export type ResolvedFitOptions = z.output<typeof fitOptionsSchema>;

export const evaluateOptionsSchema = z.object({
  /** Tokens per batch B for loadErr and interval coverage (DESIGN.md §3). */
  batchTokens: z.number().int().positive().default(1024),
  /** Use the previous layer's actual routing (known when layer l is dispatched). */
  usePreviousLayer: z.boolean().default(true),
});
export type EvaluateOptions = z.input<typeof evaluateOptionsSchema>;

export const serializeOptionsSchema = z.object({
  /** Upper bound of stored count rows over all layers and levels; the least informative are pruned. */
  maxRows: z.number().int().positive().default(50_000),
});
export type SerializeOptions = z.input<typeof serializeOptionsSchema>;
