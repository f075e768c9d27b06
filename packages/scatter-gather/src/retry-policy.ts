import { SwitchyardError } from '@switchyard/core';
import type { LatencyWindow } from './latency-window.js';
import type { ResolvedScatterGatherOptions } from './options.js';

/** Codes no retry can fix: the request itself is wrong. */
const permanentCodes: readonly string[] = [
  'PAYLOAD_TOO_LARGE',
  'INVALID_INPUT',
  'INVALID_CONFIG',
  'PLAN_INVALID',
];

/** The error's Switchyard code, `INTERNAL` for anything else (events carry it). */
export function errorCode(error: unknown): string {
  return SwitchyardError.isInstance(error) ? error.code : 'INTERNAL';
}

/** Whether another attempt (on the next replica) may succeed where this one failed. */
export function isRetryable(error: unknown): boolean {
  if (!SwitchyardError.isInstance(error)) return true;
  return !permanentCodes.includes(error.code);
}

/**
 * How long an attempt may run before a hedged duplicate is sent: the fixed `afterMs`, else the layer's
 * latency quantile once the window holds `minSamples` (never below `minDelayMs`); undefined = no hedge.
 */
export function hedgeDelayMs(
  hedge: ResolvedScatterGatherOptions['hedge'],
  latencies: LatencyWindow,
): number | undefined {
  if (!hedge.enabled || hedge.maxHedgesPerBatch === 0) return undefined;
  if (hedge.afterMs !== undefined) return hedge.afterMs;
  if (latencies.size < hedge.minSamples) return undefined;
  return Math.max(hedge.minDelayMs, latencies.quantile(hedge.quantile));
}
