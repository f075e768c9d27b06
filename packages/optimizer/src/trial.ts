import type { Point } from './search-space.js';

/** What an evaluation reports: the objective (to minimise) and whether constraints held. */
export interface TrialResult {
  value: number;
  /** False when the point violated a constraint; infeasible points never become the best. */
  feasible?: boolean;
  /**
   * Continuous constraint values, satisfied when ≤ 0 (e.g. (latency − SLO)/SLO). When given, each
   * gets its own GP and the acquisition is weighted by the probability of feasibility; `feasible`
   * then defaults to all of them being ≤ 0, and `value` should be the real objective even when
   * infeasible (it stays informative for the surrogate).
   */
  constraints?: readonly number[];
  /** Which limits were violated, e.g. `memory` or `payload` (they slow the ε decay, paper §IV). */
  violations?: readonly string[];
  /** Dimensions blamed for the violation; default: those that differ from the incumbent. */
  violatedDimensions?: readonly string[];
  /** Anything the caller wants to keep with the trial (e.g. the plan it produced). */
  data?: unknown;
}

export interface Trial {
  index: number;
  point: Point;
  value: number;
  feasible: boolean;
  violations: readonly string[];
  /** Whether this trial was drawn by exploration (ε or random) rather than the acquisition. */
  explored: boolean;
  data?: unknown;
}

export interface Suggestion {
  point: Point;
  /** Dimensions set by ε-exploration rather than the acquisition maximiser. */
  exploredDimensions: readonly string[];
}

export interface RunOptions {
  maxEvaluations: number;
  /** Points evaluated concurrently per round (suggested as a batch). */
  batchSize?: number;
  onProgress?: (progress: {
    evaluations: number;
    maxEvaluations: number;
    bestValue: number | undefined;
  }) => void;
  signal?: AbortSignal | undefined;
}

export interface OptimizationResult {
  best: Trial | undefined;
  evaluations: number;
  trials: readonly Trial[];
  /** Best feasible value after each evaluation (Infinity before the first feasible one). */
  bestValueHistory: number[];
  stoppedBy: 'max-evaluations' | 'converged' | 'exhausted';
}

/** The black-box function `run` minimises: a value, or a value with its constraints. */
export type Evaluate = (point: Point) => number | TrialResult | Promise<number | TrialResult>;
