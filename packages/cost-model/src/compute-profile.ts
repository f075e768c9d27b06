import { readFileSync } from 'node:fs';
import { parseJson, parseWithSchema } from '@switchyard/core';
import { z } from 'zod';
import { CostModelError, invalidField } from './errors.js';
import { vcpuForMemory } from './memory.js';

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
      message:
        `${where}: version ${String(version)} is not supported (this build reads version ${computeProfileVersion}: ` +
        'a measured piecewise-linear curve per thread count). Regenerate it: ' +
        '`pnpm --filter @switchyard/cost-model bench` for the shakespeare experts, or fitComputeProfile(points) ' +
        "from your measurements (a version 1 file's `points` can be refitted)",
      field: `${where}.version`,
    });
  const profile = parseWithSchema(computeProfileSchema, value, where);
  const threads = profile.curves.map((curve) => curve.threads);
  if (!threads.includes(1))
    throw new CostModelError({
      message: `${where}: curves must include threads = 1`,
      field: `${where}.curves`,
    });
  if (new Set(threads).size !== threads.length)
    throw new CostModelError({
      message: `${where}: one curve per thread count (got ${threads.join(', ')})`,
      field: `${where}.curves`,
    });
  return { ...profile, curves: [...profile.curves].sort((a, b) => a.threads - b.threads) };
}

/** Reads a profile JSON file. */
export function loadComputeProfile(path: string): ComputeProfile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CostModelError({
      code: 'NOT_FOUND',
      message: `cannot read compute profile ${path}`,
      field: path,
      cause: error,
    });
  }
  return parseComputeProfile(parseJson(text, path), path);
}

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
    ...(options.measurement === undefined ? {} : { measurement: options.measurement }),
    points: parsed,
    checks: (options.checks ?? []).map((point, i) =>
      parseWithSchema(computePointSchema, point, `checks.${i}`),
    ),
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Slow-down factor of a CPU share `vcpus` relative to one full core, for a part with parallel
 * fraction p (Amdahl) or a coordination cost σ per extra thread (when more threads were slower).
 * Below one vCPU the function gets that fraction of one core's time (1/v). Allocation-free.
 */
export function shareFactor(vcpus: number, parallelFraction: number, overheadPerThread = 0): number {
  if (vcpus <= 1) return 1 / vcpus;
  return 1 - parallelFraction + parallelFraction / vcpus + overheadPerThread * (vcpus - 1);
}

/**
 * Value of a piecewise-linear curve at `tokens`: linear between knots; beyond the last knot the last
 * segment's line (proportional to tokens if that line falls); below the first knot the first
 * segment's line, never below proportional-to-tokens. Allocation-free.
 */
export function curveValueMs(
  knotTokens: ArrayLike<number>,
  knotMs: ArrayLike<number>,
  tokens: number,
): number {
  if (tokens <= 0) return 0;
  const i = segmentIndex(knotTokens, tokens);
  const t0 = knotTokens[i]!;
  const t1 = knotTokens[i + 1]!;
  const y0 = knotMs[i]!;
  const y1 = knotMs[i + 1]!;
  const slope = (y1 - y0) / (t1 - t0);
  const line = y0 + slope * (tokens - t0);
  const n = knotTokens.length;
  if (tokens > knotTokens[n - 1]! && slope <= 0) return (knotMs[n - 1]! * tokens) / knotTokens[n - 1]!;
  if (tokens < t0) return Math.max(line, (y0 * tokens) / t0);
  return line;
}

/**
 * The segment of the curve around `tokens` as a line `fixedMs + perTokenMs × tokens`, so the
 * paper's latency equations (fixed + r·t_cal) use the measured curve exactly at that call size.
 * `fixedMs` may be negative for a steep segment; the line is only used near `tokens`.
 * Writes into `out` (allocation-free).
 */
export function curveSegment(
  knotTokens: ArrayLike<number>,
  knotMs: ArrayLike<number>,
  tokens: number,
  out: { fixedMs: number; perTokenMs: number },
): { fixedMs: number; perTokenMs: number } {
  const n = knotTokens.length;
  const i = segmentIndex(knotTokens, tokens);
  const t0 = knotTokens[i]!;
  const y0 = knotMs[i]!;
  const slope = (knotMs[i + 1]! - y0) / (knotTokens[i + 1]! - t0);
  const beyond = tokens > knotTokens[n - 1]! && slope <= 0;
  const below = tokens < t0 && y0 + slope * (tokens - t0) < (y0 * tokens) / t0;
  if (beyond || below) {
    const k = beyond ? n - 1 : 0;
    out.fixedMs = 0;
    out.perTokenMs = knotMs[k]! / knotTokens[k]!;
    return out;
  }
  out.perTokenMs = slope;
  out.fixedMs = y0 - slope * t0;
  return out;
}

/** Index i of the segment [knot i, knot i+1] that holds `tokens` (end segments beyond the ends). */
function segmentIndex(knotTokens: ArrayLike<number>, tokens: number): number {
  const n = knotTokens.length;
  let low = 0;
  let high = n - 2;
  // Largest i ≤ n − 2 with knotTokens[i] ≤ tokens (0 if below the first knot).
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (knotTokens[mid]! <= tokens) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** A profile's curve at one CPU share, on the threads = 1 curve's token grid. */
export interface ComputeCurveAt {
  /** The CPU share (vCPUs or threads on full cores). */
  vcpus: number;
  tokens: Float64Array;
  durationMs: Float64Array;
}

/**
 * The profile's time-vs-tokens curve at a CPU share `vcpus`, knot by knot on the threads = 1 grid
 * (other thread counts' curves are read at those token counts by interpolation):
 * * v < 1: the function gets that fraction of one core: t₁ / v;
 * * v = a measured thread count: that measurement;
 * * between measured counts a < v < b: Amdahl through the two, t = s + q/v (q, s from t_a, t_b);
 *   if b threads were slower than a (thread start and sync dominate small calls), linear in v;
 * * beyond the largest measured count N: Amdahl through t₁ and t_N, i.e. t₁·((1 − p) + p/v) with
 *   p = (1 − t_N/t₁)/(1 − 1/N), or t₁·(1 + σ(v − 1)) with σ = (t_N/t₁ − 1)/(N − 1) if N threads
 *   were slower — an explicit extrapolation, not a measurement.
 * The diminishing return is therefore measured per token count, not assumed. Memoised per profile
 * object and share: treat the returned arrays (and profiles) as read-only.
 */
export function computeCurveAt(profile: ComputeProfile, vcpus: number): ComputeCurveAt {
  if (!(vcpus > 0)) throw invalidField('vcpus', 'must be a positive number');
  // Profiles are treated as immutable values: memoise per profile object and share.
  let byShare = curveMemo.get(profile);
  if (!byShare) {
    byShare = new Map();
    curveMemo.set(profile, byShare);
  }
  let curve = byShare.get(vcpus);
  if (!curve) {
    curve = buildCurveAt(profile, vcpus);
    if (byShare.size < 4096) byShare.set(vcpus, curve);
  }
  return curve;
}

const curveMemo = new WeakMap<ComputeProfile, Map<number, ComputeCurveAt>>();

function buildCurveAt(profile: ComputeProfile, vcpus: number): ComputeCurveAt {
  const curves = [...profile.curves].sort((a, b) => a.threads - b.threads);
  const one = curves[0]!;
  if (one.threads !== 1)
    throw new CostModelError({ message: 'compute profile has no threads = 1 curve', field: 'curves' });
  const grid = Float64Array.from(one.knots, (knot) => knot.tokens);
  const valuesOf = (curve: ComputeCurve): Float64Array => {
    const tokens = Float64Array.from(curve.knots, (knot) => knot.tokens);
    const ms = Float64Array.from(curve.knots, (knot) => knot.durationMs);
    return grid.map((t) => curveValueMs(tokens, ms, t));
  };
  const t1 = Float64Array.from(one.knots, (knot) => knot.durationMs);
  const out = new Float64Array(grid.length);
  if (vcpus <= 1) {
    for (let k = 0; k < grid.length; k++) out[k] = t1[k]! / vcpus;
    return { vcpus, tokens: grid, durationMs: out };
  }
  const exact = curves.find((curve) => curve.threads === vcpus);
  if (exact) return { vcpus, tokens: grid, durationMs: exact === one ? t1 : valuesOf(exact) };
  const above = curves.find((curve) => curve.threads > vcpus);
  const below = [...curves].reverse().find((curve) => curve.threads < vcpus)!;
  // Between two measured counts: through both; beyond the largest: through 1 and the largest.
  const [a, b] = above ? [below, above] : [one, curves[curves.length - 1]!];
  if (a === b) {
    out.set(t1);
    return { vcpus, tokens: grid, durationMs: out };
  }
  const ta = a === one ? t1 : valuesOf(a);
  const tb = valuesOf(b);
  for (let k = 0; k < grid.length; k++) out[k] = throughTwo(a.threads, ta[k]!, b.threads, tb[k]!, vcpus);
  return { vcpus, tokens: grid, durationMs: out };
}

/** Time at v threads from times at a < b threads: Amdahl s + q/v if b was faster, else linear in v. */
function throughTwo(a: number, timeA: number, b: number, timeB: number, v: number): number {
  if (timeB < timeA) {
    const q = (timeA - timeB) / (1 / a - 1 / b);
    const s = timeA - q / a;
    // s < 0 (super-linear return) would predict negative time far out: cap the parallel part at 100 %.
    if (s < 0) return (timeA * a) / v;
    return s + q / v;
  }
  return timeA + ((timeB - timeA) * (v - a)) / (b - a);
}

/** Time of one compute call over `tokens` tokens at `threads` threads on full cores (the profiling machine). */
export function computeTimeAtThreadsMs(profile: ComputeProfile, tokens: number, threads: number): number {
  if (tokens <= 0) return 0;
  const curve = computeCurveAt(profile, threads);
  return curveValueMs(curve.tokens, curve.durationMs, tokens);
}

/** time(tokens, memory): one compute call over `tokens` tokens at the memory size's vCPU share. */
export function computeTimeMs(profile: ComputeProfile, tokens: number, memoryMB: number): number {
  if (tokens <= 0) return 0;
  const curve = computeCurveAt(profile, vcpuForMemory(memoryMB));
  return curveValueMs(curve.tokens, curve.durationMs, tokens);
}

/** The curve's local line at a memory size around a call of `tokens` tokens (see `curveSegment`). */
export function computeSegment(
  profile: ComputeProfile,
  memoryMB: number,
  tokens: number,
): { fixedMs: number; perTokenMs: number } {
  const curve = computeCurveAt(profile, vcpuForMemory(memoryMB));
  return curveSegment(curve.tokens, curve.durationMs, tokens, { fixedMs: 0, perTokenMs: 0 });
}

/** Fixed part (ms) of the local line for a call of `tokens` tokens at a memory size. */
export function computeFixedMs(profile: ComputeProfile, memoryMB: number, tokens: number): number {
  return computeSegment(profile, memoryMB, tokens).fixedMs;
}

/** t_cal: per-token compute (ms) of the local line for a call of `tokens` tokens at a memory size. */
export function computePerTokenMs(profile: ComputeProfile, memoryMB: number, tokens: number): number {
  return computeSegment(profile, memoryMB, tokens).perTokenMs;
}

/**
 * A one-line summary of the curve at a thread count, "fixed + per-token × tokens" (relative least
 * squares through its knots), for reports and people; predictions use the curve itself.
 */
export function linearSummary(profile: ComputeProfile, threads = 1): { fixedMs: number; perTokenMs: number } {
  const curve = computeCurveAt(profile, threads);
  return fitLine(Array.from(curve.tokens, (tokens, k) => ({ tokens, durationMs: curve.durationMs[k]! })));
}

/** Runs an expert over `tokens` tokens at `threads` threads and resolves its duration in ms. */
export type RunExpert = (tokens: number, threads: number) => Promise<number>;

export interface ProfileComputeOptions {
  runExpert: RunExpert;
  tokenCounts: readonly number[];
  threadCounts: readonly number[];
  /** Timed runs per (tokens, threads); the median is kept. Default 5. */
  repetitions?: number;
  /** Untimed runs first per (tokens, threads). Default 1. */
  warmup?: number;
  /**
   * Which run to keep: the median (default) or the minimum. Contention from other processes only
   * ever adds time, so on a shared machine the minimum is the better estimate of dedicated-core time.
   */
  statistic?: 'median' | 'min';
  /** Run the cells round-robin (one run of each per round) instead of cell after cell. */
  interleave?: boolean;
  /** With `interleave`: keep sampling unsettled cells up to this many runs. Default `repetitions`. */
  maxRepetitions?: number;
  /**
   * A cell is settled when the kept statistic (fastest or median) of its odd-numbered runs and of its
   * even-numbered runs agree within this fraction: two independent samples agree. Default 0.05.
   */
  stableFraction?: number;
  /** With `interleave`: stop sampling unsettled cells after this much wall time (ms). Default none. */
  maxDurationMs?: number;
  /** With `interleave`: shuffles the cell order every round (seeded source in [0, 1)). */
  random?: () => number;
  /** Also record each cell's median and 90th percentile (`medianMs`, `p90Ms`). */
  spread?: boolean;
  onProgress?: (point: ComputePoint) => void;
}

/** Measures the points a profile is fitted from: median (or minimum) of `repetitions` runs per cell. */
export async function measureComputePoints(options: ProfileComputeOptions): Promise<ComputePoint[]> {
  const repetitions = options.repetitions ?? 5;
  const warmup = options.warmup ?? 1;
  if (!Number.isInteger(repetitions) || repetitions < 1)
    throw invalidField('repetitions', 'must be a positive integer');
  const cells: Array<{ threads: number; tokens: number; durations: number[] }> = [];
  for (const threads of options.threadCounts)
    for (const tokens of options.tokenCounts) cells.push({ threads, tokens, durations: [] });
  for (const cell of cells)
    for (let i = 0; i < warmup; i++) await options.runExpert(cell.tokens, cell.threads);
  if (options.interleave) {
    // One run of every cell per round: a burst of load from other processes hits all cells alike.
    // With `maxRepetitions`, cells whose odd-run and even-run statistics still disagree by more than
    // `stableFraction` get more rounds: two halves that agree independently are a settled estimate
    // (three fastest runs of one burst could agree on a wrong floor).
    const maxRepetitions = Math.max(repetitions, options.maxRepetitions ?? repetitions);
    const stable = options.stableFraction ?? 0.05;
    const deadline = performance.now() + (options.maxDurationMs ?? Number.POSITIVE_INFINITY);
    const keep = options.statistic ?? 'median';
    const settled = (durations: number[]): boolean => {
      if (durations.length < 2) return false;
      const halves: [number[], number[]] = [[], []];
      for (let i = 0; i < durations.length; i++) halves[i % 2]!.push(durations[i]!);
      const [even, odd] = halves.map((half) => (keep === 'min' ? Math.min(...half) : median(half)));
      return Math.max(odd!, even!) <= Math.min(odd!, even!) * (1 + stable);
    };
    const order = [...cells];
    for (let i = 0; i < maxRepetitions; i++) {
      let ran = false;
      // A fresh order per round, so no cell always follows the largest one (cache and thread-pool
      // after-effects would otherwise bias it).
      if (options.random) {
        for (let j = order.length - 1; j > 0; j--) {
          const k = Math.floor(options.random() * (j + 1));
          [order[j], order[k]] = [order[k]!, order[j]!];
        }
      }
      if (i >= repetitions && performance.now() > deadline) break;
      for (const cell of order) {
        if (i >= repetitions && settled(cell.durations)) continue;
        cell.durations.push(await options.runExpert(cell.tokens, cell.threads));
        ran = true;
      }
      if (!ran) break;
    }
  } else {
    for (const cell of cells)
      for (let i = 0; i < repetitions; i++)
        cell.durations.push(await options.runExpert(cell.tokens, cell.threads));
  }
  const statistic = options.statistic ?? 'median';
  return cells.map(({ threads, tokens, durations }) => {
    durations.sort((a, b) => a - b);
    const mid = durations.length >> 1;
    const median = durations.length % 2 === 1 ? durations[mid]! : (durations[mid - 1]! + durations[mid]!) / 2;
    const p90 = durations[Math.min(durations.length - 1, Math.ceil(0.9 * durations.length) - 1)]!;
    const point: ComputePoint = {
      threads,
      tokens,
      durationMs: statistic === 'min' ? durations[0]! : median,
      repetitions: durations.length,
      ...(statistic === 'min' ? { statistic } : {}),
      ...(options.spread && median > 0 && p90 > 0 ? { medianMs: median, p90Ms: p90 } : {}),
    };
    options.onProgress?.(point);
    return point;
  });
}

/**
 * Combines the same cells measured in several processes: per (threads, tokens), the median of the
 * processes' kept statistic (and of their medians and 90th percentiles), repetitions summed. On a
 * shared or virtual machine the floor of one call moves between processes by more than it varies
 * within one, so one process measures its own luck. Cells missing from a process are skipped there.
 */
export function combineProcessPoints(perProcess: readonly (readonly ComputePoint[])[]): ComputePoint[] {
  if (perProcess.length === 0) throw invalidField('perProcess', 'need at least one process');
  const cells = new Map<string, ComputePoint[]>();
  for (const points of perProcess)
    for (const point of points) {
      const key = `${point.threads}/${point.tokens}`;
      cells.set(key, [...(cells.get(key) ?? []), point]);
    }
  return [...cells.values()]
    .map((points) => {
      const first = points[0]!;
      const medians = points.map((p) => p.medianMs).filter((v): v is number => v !== undefined);
      const p90s = points.map((p) => p.p90Ms).filter((v): v is number => v !== undefined);
      return {
        ...first,
        durationMs: median(points.map((p) => p.durationMs)),
        repetitions: points.reduce((sum, p) => sum + (p.repetitions ?? 1), 0),
        ...(medians.length > 0 ? { medianMs: median(medians) } : {}),
        ...(p90s.length > 0 ? { p90Ms: median(p90s) } : {}),
      };
    })
    .sort((a, b) => a.threads - b.threads || a.tokens - b.tokens);
}

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
