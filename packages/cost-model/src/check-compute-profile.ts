import { computeTimeAtThreadsMs } from './compute-curve.js';
import type { ComputePoint, ComputeProfile } from './compute-profile.js';

/** A measured cell beside what a profile predicts for it. */
export interface ProfileCheckRow {
  threads: number;
  tokens: number;
  measuredMs: number;
  predictedMs: number;
  /** (predicted − measured) / measured × 100. */
  errorPct: number;
}

/** How well `profile` predicts measured cells: every row and the largest |error| per thread count. */
export function checkComputeProfile(
  profile: ComputeProfile,
  measured: readonly ComputePoint[],
): { rows: ProfileCheckRow[]; maxAbsErrorPctByThreads: Record<number, number> } {
  const rows = measured.map((point) => {
    const predictedMs = computeTimeAtThreadsMs(profile, point.tokens, point.threads);
    return {
      threads: point.threads,
      tokens: point.tokens,
      measuredMs: point.durationMs,
      predictedMs,
      errorPct: ((predictedMs - point.durationMs) / point.durationMs) * 100,
    };
  });
  const maxAbsErrorPctByThreads: Record<number, number> = {};
  for (const row of rows)
    maxAbsErrorPctByThreads[row.threads] = Math.max(
      maxAbsErrorPctByThreads[row.threads] ?? 0,
      Math.abs(row.errorPct),
    );
  return { rows, maxAbsErrorPctByThreads };
}
