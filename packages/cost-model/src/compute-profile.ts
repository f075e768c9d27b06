import { expertQuantizationSchema, parseWithSchema } from '@switchyard/core';
import { z } from 'zod';
import { CostModelError } from './errors.js';
import { readJsonFile } from './json-file.js';

/** One measurement: a compute call over `tokens` tokens at `threads` threads took `durationMs`. */
export const computePointSchema = z.object({
  threads: z.number().int().positive(),
  tokens: z.number().int().positive(),
  /** The kept statistic (minimum or median of the repetitions). */
  durationMs: z.number().positive(),
  /** Repetitions the duration summarises. */
  repetitions: z.number().int().positive().optional(),
  /** How they were summarised (median unless stated). */
  statistic: z.enum(['median', 'min']).optional(),
  /** Spread of the repetitions, for judging the data: median and 90th percentile (ms). */
  medianMs: z.number().positive().optional(),
  p90Ms: z.number().positive().optional(),
});
export type ComputePoint = z.output<typeof computePointSchema>;

/** A point of a measured curve: a compute call over `tokens` tokens takes `durationMs`. */
export const computeKnotSchema = z.object({
  tokens: z.number().int().positive(),
  durationMs: z.number().positive(),
});
export type ComputeKnot = z.output<typeof computeKnotSchema>;

/**
 * Measured time of one compute call against tokens at one thread count: piecewise-linear between
 * the knots (tokens strictly increasing), the end segments' lines beyond them.
 */
export const computeCurveSchema = z
  .object({
    threads: z.number().int().positive(),
    knots: z.array(computeKnotSchema).min(2),
  })
  .superRefine((curve, context) => {
    for (let i = 1; i < curve.knots.length; i++)
      if (curve.knots[i]!.tokens <= curve.knots[i - 1]!.tokens)
        context.addIssue({
          code: 'custom',
          path: ['knots', i, 'tokens'],
          message: 'knot tokens must be strictly increasing',
        });
  });
export type ComputeCurve = z.output<typeof computeCurveSchema>;

/**
 * What an expert function measurably holds in memory (peak RSS of processes running the expert
 * function's handler over the profiled graphs), so the planner sizes memory from measurements: the
 * runtime, each expert's resident bytes in its format, and activations per token.
 */
export const computeMemorySchema = z.object({
  /** Largest call measured, tokens. */
  tokens: z.number().int().positive(),
  /** Peak RSS (MB) with 1 expert and with `experts` experts, both after a call of `tokens`. */
  peakRssOneExpertMB: z.number().positive(),
  peakRssMB: z.number().positive(),
  experts: z.number().int().min(2),
  /** Bytes of one expert's weights in its format (codes and scales; float32 without quantization). */
  weightBytesPerExpert: z.number().int().positive(),
  /** (peak RSS with `experts` − with 1) / (experts − 1): what one more expert session keeps resident. */
  residentBytesPerExpert: z.number().positive(),
  /** Peak RSS with one expert, less its resident bytes and the activations the cost model counts, MB. */
  runtimeOverheadMB: z.number().nonnegative(),
  /** How it was measured; free-form for humans. */
  measurement: z.string().optional(),
});
export type ComputeMemory = z.output<typeof computeMemorySchema>;

/** The profile format's version; version 1 (one line per thread count) is refused with a hint. */
export const computeProfileVersion = 2;

export const computeProfileSchema = z.object({
  kind: z.literal('switchyard.compute-profile'),
  version: z.literal(computeProfileVersion),
  createdAt: z.string(),
  /** What was measured (model name, layer/expert, shapes); free-form for humans. */
  subject: z.object({
    model: z.string(),
    hiddenSize: z.number().int().positive().optional(),
    intermediateSize: z.number().int().positive().optional(),
    experts: z.string().optional(),
    /** The format of the profiled expert graphs; absent = float32. A plan must use a profile of its format. */
    quantization: expertQuantizationSchema.optional(),
  }),
  machine: z.object({ description: z.string(), logicalCpus: z.number().int().positive() }),
  /**
   * One measured curve per thread count (threads = 1 required). Thread counts between and beyond
   * the measured ones follow from them per knot (see `computeCurveAt`), so the diminishing return
   * of more threads is measured at every token count, not assumed.
   */
  curves: z.array(computeCurveSchema).min(1),
  /** How the knots were measured (statistic, repetitions, load); free-form for humans. */
  measurement: z.string().optional(),
  /** The measurements the curves were built from (their knots). */
  points: z.array(computePointSchema).default([]),
  /** Measurements taken in the same run at other token counts, not used as knots: a held-out check. */
  checks: z.array(computePointSchema).default([]),
  /** Measured memory of an expert function holding these graphs; absent = the cost profile's defaults. */
  memory: computeMemorySchema.optional(),
});
export type ComputeProfile = z.output<typeof computeProfileSchema>;
export type ComputeProfileInput = z.input<typeof computeProfileSchema>;

/** Parses and validates a profile (JSON value); errors name the field. */
export function parseComputeProfile(value: unknown, where = 'compute profile'): ComputeProfile {
  const version = (value as { version?: unknown } | null)?.version;
  if (
    typeof value === 'object' &&
    value !== null &&
    version !== computeProfileVersion &&
    version !== undefined
  )
    throw new CostModelError({
      code: 'INVALID_INPUT',
      message:
        `${where}: version ${String(version)} is not supported (this build reads version ${computeProfileVersion}: ` +
        'a measured piecewise-linear curve per thread count). Regenerate it: ' +
        '`pnpm --filter @switchyard/cost-model bench` for the shakespeare experts, or fitComputeProfile(points) ' +
        "from your measurements (a version 1 file's `points` can be refitted)",
      location: `${where}.version`,
    });
  const profile = parseWithSchema(computeProfileSchema, value, where);
  const threads = profile.curves.map((curve) => curve.threads);
  if (!threads.includes(1))
    throw new CostModelError({
      code: 'INVALID_INPUT',
      message: `${where}: curves must include threads = 1`,
      location: `${where}.curves`,
    });
  if (new Set(threads).size !== threads.length)
    throw new CostModelError({
      code: 'INVALID_INPUT',
      message: `${where}: one curve per thread count (got ${threads.join(', ')})`,
      location: `${where}.curves`,
    });
  return { ...profile, curves: [...profile.curves].sort((a, b) => a.threads - b.threads) };
}

/** Reads a profile JSON file. */
export function loadComputeProfile(path: string): ComputeProfile {
  return parseComputeProfile(readJsonFile(path, 'compute profile'), path);
}
