import { lambdaLimits, parseWithSchema } from '@switchyard/core';
import { z } from 'zod';
import { computeProfileSchema } from './compute-profile.js';
import { invocationOverheadSchema } from './invocation-overhead.js';
import { transportParametersSchema } from './latency.js';

/** Node.js + onnxruntime baseline inside an expert function, MB: the cost profile's default. */
export const defaultRuntimeOverheadMB = 150;

/**
 * Everything the plan cost needs besides the plan and the prices: the measured compute profile,
 * the transport parameters of the latency model and the function's memory footprint.
 */
export const costProfileSchema = z.object({
  compute: computeProfileSchema,
  // `prefault`: an omitted object is parsed as `{}`, so its defaults are the schema's own.
  transport: transportParametersSchema.prefault({}),
  /** Node.js + onnxruntime baseline inside a function, MB (memory constraint). */
  runtimeOverheadMB: z.number().nonnegative().default(defaultRuntimeOverheadMB),
  /** Intermediate bytes per token; default 3 × intermediate size × 4 (gate, up, activation in float32). */
  intermediateBytesPerToken: z.number().nonnegative().optional(),
  /** Configured /tmp per function; Lambda's default and smallest size (512 MB) is included in the price. */
  ephemeralStorageMB: z
    .number()
    .int()
    .min(lambdaLimits.minEphemeralStorageMB)
    .max(lambdaLimits.maxEphemeralStorageMB)
    .default(lambdaLimits.minEphemeralStorageMB),
  /**
   * Handler time per invocation beyond the expert compute (wire decode/encode, runtime hop),
   * calibrated on a runtime; absent = none (the paper's model).
   */
  invocationOverhead: invocationOverheadSchema.optional(),
});
export type CostProfile = z.output<typeof costProfileSchema>;
export type CostProfileInput = z.input<typeof costProfileSchema>;

export function parseCostProfile(value: unknown, where = 'cost profile'): CostProfile {
  return parseWithSchema(costProfileSchema, value, where);
}

/** Options of the `switchyard cost` calculator (the CLI parses its flags with this). */
export const lambdaCostOptionsSchema = z.object({
  // NaN passes through so `lambdaCost` reports it against the right field.
  memoryMB: z.number().or(z.nan()),
  durationMs: z.number().or(z.nan()),
  invocations: z.number().or(z.nan()),
  arch: z.string().default('x86_64'),
  region: z.string().default('us-east-1'),
  freeTier: z.boolean().default(true),
  priceTablePath: z.string().optional(),
});
/** What the calculator's caller passes (defaults may be left out). */
export type LambdaCostOptions = z.input<typeof lambdaCostOptionsSchema>;
/** The calculator's options with every default applied. */
export type ResolvedLambdaCostOptions = z.output<typeof lambdaCostOptionsSchema>;
