import type { Logger } from '@switchyard/core';
import { z } from 'zod';

export const predictorStrategies = ['default', 'paper'] as const;
export type PredictorStrategy = (typeof predictorStrategies)[number];

// Fields several entry points share, so each default is written once.
/** Nominal coverage of the load intervals. */
const intervalLevel = z.number().gt(0).lt(1).default(0.9);
/** Tokens per batch B: of the calibration batches, and of loadErr and interval coverage (architecture/formats.md). */
const batchTokens = z.number().int().positive().default(1024);
/** Whether layer l may condition on the actual routing of layer l − 1 (known at dispatch time). */
const usePreviousLayer = z.boolean().default(true);
/** Half-life of online forgetting in observed tokens; null = never forget (pure conjugate update). */
const halfLifeTokens = z.number().positive().nullable().default(null);
/** Drift is flagged when the recent log-likelihood falls this many batch standard deviations below calibration. */
const driftThreshold = z.number().positive().default(3);

/**
 * Options of `fitPredictor`. Nothing here is a tuning constant for accuracy: concentrations come
 * from empirical Bayes and the interval width from cross-fitting; these only pick structure.
 */
export const fitOptionsSchema = z.object({
  /** `default`: hierarchical Dirichlet-multinomial with back-off; `paper`: the paper's eq. 1 table. */
  strategy: z.enum(predictorStrategies).default('default'),
  /** How many preceding tokens (n-gram context) the back-off ladder may use (default strategy). */
  contextTokens: z.number().int().min(0).max(8).default(3),
  usePreviousLayer,
  /** Whether the ladder uses the paper's attention id (f3) when the trace records it. */
  useAttention: z.boolean().default(true),
  intervalLevel,
  /** Tokens per batch used to calibrate the intervals on cross-fitted calibration folds. */
  batchTokens,
  /** Contiguous folds of the calibration data for cross-fitting (interval and drift calibration). */
  calibrationFolds: z.number().int().min(2).max(20).default(4),
  halfLifeTokens,
  driftThreshold,
  /** Per-layer expert loads to use as the base measure of the global level (aggregated-count prior). */
  priorExpertLoad: z.array(z.array(z.number().nonnegative())).optional(),
  /** Fixed concentrations [layer][level] instead of empirical Bayes (tests, reproductions). */
  concentrations: z.array(z.array(z.number().positive())).optional(),
});

/** What `fitPredictor` takes: the schema's fields, and a logger beside them. */
export type FitOptions = z.input<typeof fitOptionsSchema> & { logger?: Logger };
export type ResolvedFitOptions = z.output<typeof fitOptionsSchema>;

export const evaluateOptionsSchema = z.object({
  /** Tokens per batch B for loadErr and interval coverage. */
  batchTokens,
  /** Use the previous layer's actual routing (known when layer l is dispatched). */
  usePreviousLayer,
});
export type EvaluateOptions = z.input<typeof evaluateOptionsSchema>;
export type ResolvedEvaluateOptions = z.output<typeof evaluateOptionsSchema>;

export const serializeOptionsSchema = z.object({
  /** Upper bound of stored count rows over all layers and levels; the least informative are pruned. */
  maxRows: z.number().int().positive().default(50_000),
});
export type SerializeOptions = z.input<typeof serializeOptionsSchema>;
export type ResolvedSerializeOptions = z.output<typeof serializeOptionsSchema>;

/** Options of `predictorFromExpertLoad` (a predictor from aggregated per-layer loads). */
export const expertLoadOptionsSchema = z.object({
  /** Experts each token selects (at most the number of experts). */
  topK: z.number().int().positive(),
  modelName: z.string().default('aggregated-load'),
  /** Tokens per independent chunk (position = index mod chunk). */
  chunk: z.number().int().positive().default(2048),
  intervalLevel,
  batchTokens,
  halfLifeTokens,
  driftThreshold,
  /** Count the load as this many selections (down-weights data from another domain); default as given. */
  effectiveSelections: z.number().nonnegative().optional(),
});
export type ExpertLoadOptions = z.input<typeof expertLoadOptionsSchema>;
export type ResolvedExpertLoadOptions = z.output<typeof expertLoadOptionsSchema>;
