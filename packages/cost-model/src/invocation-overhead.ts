import { parseWithSchema, vcpusForMemory } from '@switchyard/core';
import { z } from 'zod';
import { invalidField } from './errors.js';

/** One calibration invocation: what the handler spent beyond the expert compute. */
export const invocationOverheadPointSchema = z.object({
  /** Tokens in the invocation. */
  tokens: z.number().int().positive(),
  /** Activation bytes on the wire, request plus response. */
  payloadBytes: z.number().int().positive(),
  /** Runtime-reported handler duration at one full vCPU (the statistic below). */
  handlerMs: z.number().nonnegative(),
  /** The compute profile's prediction for the same tokens at one thread, subtracted. */
  computeMs: z.number().nonnegative(),
  repetitions: z.number().int().positive().optional(),
  statistic: z.enum(['median', 'min']).optional(),
});
export type InvocationOverheadPoint = z.output<typeof invocationOverheadPointSchema>;

/**
 * Per-invocation handler time that is not expert compute: event parse, base64 and wire
 * decode/encode, tensor set-up, the `session.run` call path and the runtime hop. It is billed
 * duration on Lambda, and it is single-threaded JavaScript, so a fractional vCPU share stretches it
 * like any serial work (1/share below one vCPU, unchanged above). Measured at one full vCPU.
 *   overhead(bytes, memory) = (fixedMs + perByteMs × bytes) × shareFactor(vCPU(memory), p = 0)
 */
export const invocationOverheadSchema = z.object({
  kind: z.literal('switchyard.invocation-overhead').default('switchyard.invocation-overhead'),
  fixedMs: z.number().nonnegative(),
  /** Per activation byte on the wire (request + response). */
  perByteMs: z.number().nonnegative(),
  /** Where it was measured (runtime, machine); free-form. */
  measuredOn: z.string().optional(),
  points: z.array(invocationOverheadPointSchema).default([]),
});
export type InvocationOverhead = z.output<typeof invocationOverheadSchema>;
export type InvocationOverheadInput = z.input<typeof invocationOverheadSchema>;

/** Serial slow-down at a memory size: a slice below one vCPU stretches time by 1/share; above, none. */
function serialFactor(memoryMB: number): number {
  const vcpus = vcpusForMemory(memoryMB);
  return vcpus < 1 ? 1 / vcpus : 1;
}

/** Fixed part (ms) of the invocation overhead at a memory size; 0 without a calibration. */
export function invocationFixedMs(overhead: InvocationOverhead | undefined, memoryMB: number): number {
  return overhead ? overhead.fixedMs * serialFactor(memoryMB) : 0;
}

/** Overhead per wire byte (ms) at a memory size; 0 without a calibration. */
export function invocationPerByteMs(overhead: InvocationOverhead | undefined, memoryMB: number): number {
  return overhead ? overhead.perByteMs * serialFactor(memoryMB) : 0;
}

/** Whole overhead (ms) of one invocation moving `payloadBytes` activation bytes at `memoryMB`. */
export function invocationOverheadMs(
  overhead: InvocationOverhead | undefined,
  payloadBytes: number,
  memoryMB: number,
): number {
  return invocationFixedMs(overhead, memoryMB) + invocationPerByteMs(overhead, memoryMB) * payloadBytes;
}

/**
 * Fits fixed + per-byte to (handler − compute) over calibration points by ordinary least squares:
 * billed GB-s add up over invocations, so each point's absolute error is what counts. A negative
 * fixed part is refitted through the origin; a negative slope is refitted as a constant. Needs two
 * distinct payload sizes.
 */
export function fitInvocationOverhead(
  points: readonly InvocationOverheadPoint[],
  options: { measuredOn?: string } = {},
): InvocationOverhead {
  const parsed = points.map((point, i) =>
    parseWithSchema(invocationOverheadPointSchema, point, `points.${i}`),
  );
  if (new Set(parsed.map((p) => p.payloadBytes)).size < 2)
    throw invalidField('points', 'need at least two distinct payload sizes');
  const n = parsed.length;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (const p of parsed) {
    const y = Math.max(0, p.handlerMs - p.computeMs);
    sx += p.payloadBytes;
    sy += y;
    sxx += p.payloadBytes * p.payloadBytes;
    sxy += p.payloadBytes * y;
  }
  let perByteMs = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  let fixedMs = (sy - perByteMs * sx) / n;
  if (fixedMs < 0) {
    fixedMs = 0;
    perByteMs = sxy / sxx;
  }
  if (perByteMs < 0) {
    perByteMs = 0;
    fixedMs = sy / n;
  }
  return {
    kind: 'switchyard.invocation-overhead',
    fixedMs,
    perByteMs,
    measuredOn: options.measuredOn,
    points: parsed,
  };
}
