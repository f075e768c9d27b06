import { median, quantile, shuffleInPlace } from '@switchyard/core';
import type { ComputePoint } from './compute-profile.js';
import { invalidField } from './errors.js';

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
      if (options.random) shuffleInPlace(order, options.random);
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
    const middle = median(durations);
    const p90 = quantile(durations, 0.9);
    const point: ComputePoint = {
      threads,
      tokens,
      durationMs: statistic === 'min' ? Math.min(...durations) : middle,
      repetitions: durations.length,
      ...(statistic === 'min' ? { statistic } : {}),
      ...(options.spread && middle > 0 && p90 > 0 ? { medianMs: middle, p90Ms: p90 } : {}),
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
