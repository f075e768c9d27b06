import { median, parseWithSchema } from '@switchyard/core';
import { computeCurveAt } from './compute-curve.js';
import {
  type ComputeCurve,
  type ComputePoint,
  type ComputeProfile,
  computePointSchema,
  computeProfileVersion,
} from './compute-profile.js';
import { invalidField } from './errors.js';

/**
 * Line through (tokens, durationMs) minimising the squared *relative* error (weights 1/duration²).
 * Used to summarise a curve as "fixed + per-token" for people (`linearSummary`); the model itself
 * is the piecewise-linear curve. Needs two distinct token counts.
 */
export function fitLine(points: readonly { tokens: number; durationMs: number }[]): {
  fixedMs: number;
  perTokenMs: number;
} {
  const n = points.length;
  let sw = 0;
  let swx = 0;
  let swy = 0;
  let swxx = 0;
  let swxy = 0;
  for (const p of points) {
    const w = 1 / (p.durationMs * p.durationMs);
    sw += w;
    swx += w * p.tokens;
    swy += w * p.durationMs;
    swxx += w * p.tokens * p.tokens;
    swxy += w * p.tokens * p.durationMs;
  }
  const determinant = sw * swxx - swx * swx;
  const distinct = new Set(points.map((p) => p.tokens)).size;
  if (n < 2 || distinct < 2 || !(Math.abs(determinant) > 0))
    throw invalidField('points', 'need at least two distinct token counts per thread count');
  let perTokenMs = (sw * swxy - swx * swy) / determinant;
  let fixedMs = (swy - perTokenMs * swx) / sw;
  // A negative intercept is noise; refit through the origin rather than predict negative time.
  if (fixedMs < 0) {
    fixedMs = 0;
    perTokenMs = swxy / swxx;
  }
  if (!(perTokenMs > 0))
    throw invalidField('points', 'duration does not grow with tokens; cannot fit a per-token cost');
  return { fixedMs, perTokenMs };
}

export interface FitComputeProfileOptions {
  subject: ComputeProfile['subject'];
  machine: ComputeProfile['machine'];
  createdAt?: string;
  measurement?: string;
  /** Held-out measurements to store beside the curves (not used as knots). */
  checks?: readonly ComputePoint[];
}

/**
 * Builds a profile from measurements: per thread count, the measured points become the curve's
 * knots (several measurements of one token count are combined by their median). Needs threads = 1
 * and two distinct token counts per thread count.
 */
export function fitComputeProfile(
  points: readonly ComputePoint[],
  options: FitComputeProfileOptions,
): ComputeProfile {
  const parsed = points.map((point, i) => parseWithSchema(computePointSchema, point, `points.${i}`));
  const byThreads = new Map<number, Map<number, number[]>>();
  for (const point of parsed) {
    const byTokens = byThreads.get(point.threads) ?? new Map<number, number[]>();
    byTokens.set(point.tokens, [...(byTokens.get(point.tokens) ?? []), point.durationMs]);
    byThreads.set(point.threads, byTokens);
  }
  if (!byThreads.has(1)) throw invalidField('points', 'need measurements at threads = 1');
  const curves: ComputeCurve[] = [...byThreads.entries()]
    .sort(([a], [b]) => a - b)
    .map(([threads, byTokens]) => {
      if (byTokens.size < 2)
        throw invalidField(
          'points',
          `need at least two distinct token counts per thread count (threads = ${threads})`,
        );
      const knots = [...byTokens.entries()]
        .sort(([a], [b]) => a - b)
        .map(([tokens, durations]) => ({ tokens, durationMs: median(durations) }));
      return { threads, knots };
    });
  return {
    kind: 'switchyard.compute-profile',
    version: computeProfileVersion,
    createdAt: options.createdAt ?? new Date().toISOString(),
    subject: options.subject,
    machine: options.machine,
    curves,
    measurement: options.measurement,
    points: parsed,
    checks: (options.checks ?? []).map((point, i) =>
      parseWithSchema(computePointSchema, point, `checks.${i}`),
    ),
  };
}

/**
 * A one-line summary of the curve at a thread count, "fixed + per-token × tokens" (relative least
 * squares through its knots), for reports and people; predictions use the curve itself.
 */
export function linearSummary(profile: ComputeProfile, threads = 1): { fixedMs: number; perTokenMs: number } {
  const curve = computeCurveAt(profile, threads);
  return fitLine(Array.from(curve.tokens, (tokens, k) => ({ tokens, durationMs: curve.durationMs[k]! })));
}
