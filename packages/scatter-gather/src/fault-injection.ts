import {
  createRandom,
  delay,
  type Executor,
  type InvokeRequest,
  type InvokeResult,
  parseWithSchema,
} from '@switchyard/core';
import { z } from 'zod';
import { ScatterGatherError } from './errors.js';

export const faultInjectionOptionsSchema = z
  .object({
    seed: z.number().int().default(1),
    /** Share of invocations that fail with FUNCTION_ERROR (after running: billed, answer lost). */
    failRate: z.number().min(0).max(1).default(0),
    /** Share that hang until their timeout (or signal) and then reject with TIMEOUT. */
    timeoutRate: z.number().min(0).max(1).default(0),
    /** Share rejected at once with THROTTLED (HTTP 429). */
    throttleRate: z.number().min(0).max(1).default(0),
    /** Share whose answer arrives late by `lateMs`. */
    lateRate: z.number().min(0).max(1).default(0),
    lateMs: z.number().nonnegative().default(50),
    /** How long a "timed out" invocation hangs when the request has no timeout or signal. */
    hangMs: z.number().positive().default(30_000),
    /** Only these function names are affected; omitted = all. */
    functionNames: z.array(z.string()).optional(),
  })
  .refine((o) => o.failRate + o.timeoutRate + o.throttleRate + o.lateRate <= 1, {
    message: 'fault rates add up to more than 1',
  });

/** What callers pass (defaults may be left out). */
export type FaultInjectionOptions = z.input<typeof faultInjectionOptionsSchema>;
/** The options with every default applied. */
export type ResolvedFaultInjectionOptions = z.output<typeof faultInjectionOptionsSchema>;

export interface FaultCounts {
  invocations: number;
  failed: number;
  timedOut: number;
  throttled: number;
  late: number;
}

export interface FaultInjectingExecutor extends Executor {
  /** What was injected so far. */
  counts(): FaultCounts;
}

/**
 * Wraps an executor and injects faults into a seeded share of invocations: failures, timeouts,
 * throttles (429) and late answers. For chaos tests of anything that calls an `Executor`.
 * Draws happen in invocation order, so a fixed seed and a fixed call order give the same faults.
 */
export function createFaultInjectingExecutor(
  inner: Executor,
  options: FaultInjectionOptions = {},
): FaultInjectingExecutor {
  const resolved = parseWithSchema(faultInjectionOptionsSchema, options, 'fault injection options');
  const random = createRandom(resolved.seed);
  const counts: FaultCounts = { invocations: 0, failed: 0, timedOut: 0, throttled: 0, late: 0 };
  const affected = resolved.functionNames ? new Set(resolved.functionNames) : undefined;
  return {
    counts: () => ({ ...counts }),
    async invoke(request: InvokeRequest): Promise<InvokeResult> {
      counts.invocations++;
      const draw = random();
      if (affected && !affected.has(request.functionName)) return inner.invoke(request);
      let threshold = resolved.throttleRate;
      if (draw < threshold) {
        counts.throttled++;
        throw new ScatterGatherError({
          code: 'THROTTLED',
          message: `TooManyRequestsException (injected) for ${request.functionName}`,
          location: request.functionName,
          retryable: true,
        });
      }
      threshold += resolved.timeoutRate;
      if (draw < threshold) {
        counts.timedOut++;
        await delay(request.timeoutMs ?? resolved.hangMs, request.signal);
        throw new ScatterGatherError({
          code: 'TIMEOUT',
          message: `invocation of ${request.functionName} timed out (injected)`,
          location: request.functionName,
          retryable: true,
        });
      }
      threshold += resolved.failRate;
      if (draw < threshold) {
        counts.failed++;
        const discarded = await inner.invoke(request);
        inner.recycle?.(discarded.payload);
        throw new ScatterGatherError({
          code: 'FUNCTION_ERROR',
          message: `function ${request.functionName} raised an error (injected)`,
          location: request.functionName,
          retryable: true,
        });
      }
      threshold += resolved.lateRate;
      if (draw < threshold) {
        counts.late++;
        const result = await inner.invoke(request);
        try {
          await delay(resolved.lateMs, request.signal);
        } catch (error) {
          inner.recycle?.(result.payload);
          throw error;
        }
        return { ...result, latencyMs: result.latencyMs + resolved.lateMs };
      }
      return inner.invoke(request);
    },
    recycle: inner.recycle && ((payload: Uint8Array) => inner.recycle!(payload)),
    close: inner.close && (() => inner.close!()),
  };
}
