import { readFileSync } from 'node:fs';
import { parseJson, parseWithSchema } from '@switchyard/core';
import { z } from 'zod';
import { CostModelError, invalidField } from './errors.js';
import { vcpuForMemory } from './memory.js';

/** One measurement: a compute call over `tokens` tokens at `threads` threads took `durationMs`. */
export const computePointSchema = z.object({
  threads: z.number().int().positive(),
  tokens: z.number().int().positive(),
  durationMs: z.number().positive(),
  /** Repetitions the duration summarises. */
  repetitions: z.number().int().positive().optional(),
  /** How they were summarised (median unless stated). */
  statistic: z.enum(['median', 'min']).optional(),
});
export type ComputePoint = z.output<typeof computePointSchema>;

/** time(tokens) = fixedMs + perTokenMs × tokens at one thread count (least squares). */
export const computeFitSchema = z.object({
  threads: z.number().int().positive(),
  fixedMs: z.number().nonnegative(),
  perTokenMs: z.number().positive(),
});
export type ComputeFit = z.output<typeof computeFitSchema>;

export const computeProfileSchema = z.object({
  kind: z.literal('switchyard.compute-profile'),
  version: z.literal(1),
  createdAt: z.string(),
  /** What was measured (model name, layer/expert, shapes); free-form for humans. */
  subject: z.object({
    model: z.string(),
    hiddenSize: z.number().int().positive().optional(),
    intermediateSize: z.number().int().positive().optional(),
    experts: z.string().optional(),
  }),
  machine: z.object({ description: z.string(), logicalCpus: z.number().int().positive() }),
  fits: z.array(computeFitSchema).min(1),
  /**
   * Thread scaling beyond one thread: Amdahl's law fitted separately to the fixed and the per-token
   * part from the measured 1→N thread return (N = largest measured). `measured: false` means only
   * one thread count was measured and no return is credited (parallel fractions 0).
   */
  scaling: z.object({
    model: z.literal('amdahl'),
    measured: z.boolean(),
    parallelFractionFixed: z.number().min(0).max(1),
    parallelFractionPerToken: z.number().min(0).max(1),
    /**
     * Coordination cost per extra thread (fraction of the one-thread time), measured when more
     * threads made a part slower (thread-pool start and sync dominate small calls): the part's
     * factor is then 1 + σ·(v − 1) instead of Amdahl's, as in Gunther's scalability law with p = 0.
     */
    overheadPerThreadFixed: z.number().min(0).default(0),
    overheadPerThreadPerToken: z.number().min(0).default(0),
  }),
  points: z.array(computePointSchema).default([]),
});
export type ComputeProfile = z.output<typeof computeProfileSchema>;
export type ComputeProfileInput = z.input<typeof computeProfileSchema>;

/** Parses and validates a profile (JSON value); errors name the field. */
export function parseComputeProfile(value: unknown, where = 'compute profile'): ComputeProfile {
  const profile = parseWithSchema(computeProfileSchema, value, where);
  if (!profile.fits.some((fit) => fit.threads === 1))
    throw new CostModelError({ message: `${where}: fits must include threads = 1`, field: `${where}.fits` });
  return profile;
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
 * Line through (tokens, durationMs) minimising the squared *relative* error (weights 1/duration²):
 * the planner cares about % error at every batch size, and an unweighted fit lets the largest
 * token counts swamp the small ones. Needs two distinct token counts.
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

/** Amdahl parallel fraction p from the time ratio t_N / t_1 = (1 − p) + p/N, clamped to [0, 1]. */
function amdahlFraction(time1: number, timeN: number, threads: number): number {
  if (time1 <= 0 || threads <= 1) return 0;
  const p = (1 - timeN / time1) / (1 - 1 / threads);
  return p < 0 ? 0 : Math.min(p, 1);
}

/** Coordination cost σ from t_N / t_1 = 1 + σ(N − 1) when more threads were slower; else 0. */
function threadOverhead(time1: number, timeN: number, threads: number): number {
  if (time1 <= 0 || threads <= 1 || timeN <= time1) return 0;
  return (timeN / time1 - 1) / (threads - 1);
}

export interface FitComputeProfileOptions {
  subject: ComputeProfile['subject'];
  machine: ComputeProfile['machine'];
  createdAt?: string;
}

/**
 * Fits a profile from measurements: a line per thread count, then Amdahl fractions from the 1→N
 * return (N = the largest measured thread count), each part separately.
 */
export function fitComputeProfile(
  points: readonly ComputePoint[],
  options: FitComputeProfileOptions,
): ComputeProfile {
  const parsed = points.map((point, i) => parseWithSchema(computePointSchema, point, `points.${i}`));
  const byThreads = new Map<number, ComputePoint[]>();
  for (const point of parsed) byThreads.set(point.threads, [...(byThreads.get(point.threads) ?? []), point]);
  if (!byThreads.has(1)) throw invalidField('points', 'need measurements at threads = 1');
  const fits: ComputeFit[] = [...byThreads.entries()]
    .sort(([a], [b]) => a - b)
    .map(([threads, group]) => ({ threads, ...fitLine(group) }));
  const one = fits[0]!;
  const top = fits[fits.length - 1]!;
  const measured = top.threads > 1;
  return {
    kind: 'switchyard.compute-profile',
    version: 1,
    createdAt: options.createdAt ?? new Date().toISOString(),
    subject: options.subject,
    machine: options.machine,
    fits,
    scaling: {
      model: 'amdahl',
      measured,
      parallelFractionFixed: measured ? amdahlFraction(one.fixedMs, top.fixedMs, top.threads) : 0,
      parallelFractionPerToken: measured ? amdahlFraction(one.perTokenMs, top.perTokenMs, top.threads) : 0,
      overheadPerThreadFixed: measured ? threadOverhead(one.fixedMs, top.fixedMs, top.threads) : 0,
      overheadPerThreadPerToken: measured ? threadOverhead(one.perTokenMs, top.perTokenMs, top.threads) : 0,
    },
    points: parsed,
  };
}

function singleThreadFit(profile: ComputeProfile): ComputeFit {
  const fit = profile.fits.find((f) => f.threads === 1);
  if (!fit) throw new CostModelError({ message: 'compute profile has no threads = 1 fit', field: 'fits' });
  return fit;
}

/**
 * Slow-down factor of a CPU share `vcpus` relative to one full core, for a part with parallel
 * fraction p. Below one vCPU the function gets that fraction of one core's time (1/v); from one
 * vCPU up it runs ⌈v⌉ threads on v cores' worth of credits: Amdahl with a continuous core count,
 * (1 − p) + p/v, which equals the measured ratio at the measured thread count and extrapolates
 * beyond it with the same p (an explicit model, not a measurement). Allocation-free.
 */
export function shareFactor(vcpus: number, parallelFraction: number, overheadPerThread = 0): number {
  if (vcpus <= 1) return 1 / vcpus;
  return 1 - parallelFraction + parallelFraction / vcpus + overheadPerThread * (vcpus - 1);
}

/** Fixed part (ms) of one compute call at a memory size. Allocation-free after the first lookup. */
export function computeFixedMs(profile: ComputeProfile, memoryMB: number): number {
  return (
    singleThreadFit(profile).fixedMs *
    shareFactor(
      vcpuForMemory(memoryMB),
      profile.scaling.parallelFractionFixed,
      profile.scaling.overheadPerThreadFixed,
    )
  );
}

/** t_cal: per-token compute (ms) at a memory size. */
export function computePerTokenMs(profile: ComputeProfile, memoryMB: number): number {
  return (
    singleThreadFit(profile).perTokenMs *
    shareFactor(
      vcpuForMemory(memoryMB),
      profile.scaling.parallelFractionPerToken,
      profile.scaling.overheadPerThreadPerToken,
    )
  );
}

/** time(tokens, memory) = fixed + per-token × tokens, scaled by the memory's vCPU share. */
export function computeTimeMs(profile: ComputeProfile, tokens: number, memoryMB: number): number {
  if (tokens <= 0) return 0;
  return computeFixedMs(profile, memoryMB) + computePerTokenMs(profile, memoryMB) * tokens;
}

/**
 * Predicted time at an explicit thread count on the profiling machine (full cores, no throttling):
 * the Amdahl model at v = threads. Used to compare prediction with measurement.
 */
export function computeTimeAtThreadsMs(profile: ComputeProfile, tokens: number, threads: number): number {
  const one = singleThreadFit(profile);
  return (
    one.fixedMs *
      shareFactor(threads, profile.scaling.parallelFractionFixed, profile.scaling.overheadPerThreadFixed) +
    one.perTokenMs *
      tokens *
      shareFactor(
        threads,
        profile.scaling.parallelFractionPerToken,
        profile.scaling.overheadPerThreadPerToken,
      )
  );
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
  /** A cell is settled when its three fastest runs are within this fraction. Default 0.05. */
  stableFraction?: number;
  /** With `interleave`: shuffles the cell order every round (seeded source in [0, 1)). */
  random?: () => number;
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
    // With `maxRepetitions`, cells whose three fastest runs still disagree by more than
    // `stableFraction` get more rounds: contention only adds time, so agreeing minima are clean.
    const maxRepetitions = Math.max(repetitions, options.maxRepetitions ?? repetitions);
    const stable = options.stableFraction ?? 0.05;
    const settled = (durations: number[]): boolean => {
      if (durations.length < 3) return false;
      const fastest = [...durations].sort((a, b) => a - b);
      return fastest[2]! <= fastest[0]! * (1 + stable);
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
    const point: ComputePoint = {
      threads,
      tokens,
      durationMs: statistic === 'min' ? durations[0]! : median,
      repetitions: durations.length,
      ...(statistic === 'min' ? { statistic } : {}),
    };
    options.onProgress?.(point);
    return point;
  });
}
