import {
  createRandom,
  type Logger,
  noopLogger,
  parseWithSchema,
  type RandomSource,
  randomInteger,
  randomNormal,
} from '@switchyard/core';
import { expectedImprovement, normalCdf, upperConfidenceBound } from './acquisition.js';
import { OptimizerError } from './errors.js';
import { GaussianProcess, type KernelHyperparameters } from './gaussian-process.js';
import { type OptimizerOptions, optimizerOptionsSchema, type ResolvedOptimizerOptions } from './options.js';
import { type Dimension, type Point, SearchSpace } from './search-space.js';

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
  signal?: AbortSignal;
}

export interface OptimizationResult {
  best: Trial | undefined;
  evaluations: number;
  trials: readonly Trial[];
  /** Best feasible value after each evaluation (Infinity before the first feasible one). */
  bestValueHistory: number[];
  stoppedBy: 'max-evaluations' | 'converged' | 'exhausted';
}

type Evaluate = (point: Point) => number | TrialResult | Promise<number | TrialResult>;

interface Surrogate {
  objective: GaussianProcess;
  constraints: GaussianProcess[];
  /** Whether the constraint GPs decide feasibility (else infeasible points are imputed as bad). */
  constrained: boolean;
}

interface PendingSuggestion {
  vector: number[];
  /** Dimensions that differ from the incumbent when suggested. */
  changed: Set<number>;
  explored: boolean;
}

/**
 * Bayesian optimisation over a mixed search space with the multi-dimensional ε-greedy search of
 * Liu, Wang, Wu (INFOCOM 2025, §IV): the acquisition maximiser proposes a point, then each dimension
 * d is independently re-drawn at random with probability ε_d = ε₀ / (1 + Σ ρ_d,t), where every
 * trial adds ρ₁ (memory violation), ρ₂ (payload violation) or ρ₃ (no violation) to the dimensions
 * it changed and ρ to the others — so dimensions that keep running into limits keep exploring.
 * Minimises. Use `suggest`/`observe` (ask–tell, batches for parallel evaluation) or `run`.
 */
export class EpsilonGreedyBayesOpt {
  readonly space: SearchSpace;
  readonly options: ResolvedOptimizerOptions;
  private readonly random: RandomSource;
  private readonly logger: Logger;
  private readonly trials: Trial[] = [];
  private readonly vectors: number[][] = [];
  private readonly seen = new Set<string>();
  private readonly pending = new Map<string, PendingSuggestion>();
  private readonly epsilonAge: Float64Array;
  private readonly bestHistory: number[] = [];
  private hyperparameters: KernelHyperparameters | undefined;
  private constraintHyperparameters: (KernelHyperparameters | undefined)[] = [];
  private readonly constraintValues: (readonly number[] | undefined)[] = [];
  private enumerated: { vectors: number[][]; features: Float64Array } | undefined;
  private sweepState: { dimension: number; queue: number[][]; unproductive: number } | undefined;

  constructor(dimensions: readonly Dimension[] | SearchSpace, options: OptimizerOptions = {}) {
    this.space = dimensions instanceof SearchSpace ? dimensions : new SearchSpace(dimensions);
    this.options = parseWithSchema(optimizerOptionsSchema, options, 'EpsilonGreedyBayesOpt options');
    this.random = this.options.random ?? createRandom(this.options.seed);
    this.logger = this.options.logger ?? noopLogger;
    this.epsilonAge = new Float64Array(this.space.dimensions.length);
  }

  /** Current per-dimension exploration probabilities. */
  get epsilons(): Record<string, number> {
    const result: Record<string, number> = {};
    this.space.dimensions.forEach((dimension, d) => {
      result[dimension.name] = this.options.epsilon.initial / (1 + this.epsilonAge[d]!);
    });
    return result;
  }

  get history(): readonly Trial[] {
    return this.trials;
  }

  /** Best feasible trial so far. */
  get best(): Trial | undefined {
    let best: Trial | undefined;
    for (const trial of this.trials) if (trial.feasible && (!best || trial.value < best.value)) best = trial;
    return best;
  }

  /** Whether the ζ/λ rule says to stop: the best moved less than ζ (relative) over λ evaluations. */
  shouldStop(): boolean {
    const stopping = this.options.stopping;
    if (!stopping) return false;
    const n = this.bestHistory.length;
    if (n < Math.max(stopping.minEvaluations, stopping.lambda + 1)) return false;
    const now = this.bestHistory[n - 1]!;
    const before = this.bestHistory[n - 1 - stopping.lambda]!;
    if (!Number.isFinite(now)) return false;
    if (!Number.isFinite(before)) return false;
    return before - now <= stopping.zeta * Math.abs(now);
  }

  /** Proposes up to `count` distinct, not yet evaluated points (fewer when the space is exhausted). */
  suggest(count = 1): Suggestion[] {
    const suggestions: Suggestion[] = [];
    const strategy = this.options.strategy;
    let model: Surrogate | undefined;
    for (let i = 0; i < count; i++) {
      let vector: number[] | undefined;
      let explored: number[] = [];
      const observed = this.trials.length + this.pending.size;
      if (strategy === 'sweep') {
        vector = this.nextSweepPoint();
      } else if (
        strategy === 'random' ||
        observed < this.options.initialEvaluations ||
        this.trials.length < 2
      ) {
        vector = this.randomUnseen();
        explored = vector ? this.space.dimensions.map((_, d) => d) : [];
      } else {
        model ??= this.fitModel();
        const proposal = this.maximiseAcquisition(model);
        if (!proposal) break;
        vector = proposal;
        if (strategy === 'epsilon-greedy-bo') {
          ({ vector, explored } = this.explorePerDimension(proposal));
        } else if (strategy === 'single-epsilon') {
          const tau = Math.max(0, this.trials.length - this.options.initialEvaluations);
          const epsilon = this.options.epsilon.initial / (1 + this.options.epsilon.rho * tau);
          if (this.random() < epsilon) {
            const randomVector = this.randomUnseen();
            if (randomVector) {
              vector = randomVector;
              explored = this.space.dimensions.map((_, d) => d);
            }
          }
        }
        // Kriging believer: pretend the point returned its predicted mean, so the rest of the batch spreads out.
        const features = new Float64Array(this.space.featureCount);
        this.space.encode(vector, features);
        model.objective.addObservation(features, model.objective.predict(features).mean);
        for (const constraint of model.constraints)
          constraint.addObservation(features, constraint.predict(features).mean);
      }
      if (!vector) break;
      const key = this.space.key(vector);
      const incumbent = this.bestVector();
      const changed = new Set<number>();
      vector.forEach((value, d) => {
        if (!incumbent || incumbent[d] !== value) changed.add(d);
      });
      this.pending.set(key, { vector, changed, explored: explored.length > 0 });
      suggestions.push({
        point: this.space.toPoint(vector),
        exploredDimensions: explored.map((d) => this.space.dimensions[d]!.name),
      });
    }
    return suggestions;
  }

  /** Records the result of evaluating `point` (suggested or not). */
  observe(point: Point, result: number | TrialResult): Trial {
    const vector = this.space.fromPoint(point);
    const key = this.space.key(vector);
    const outcome: TrialResult = typeof result === 'number' ? { value: result } : result;
    const constraintsMet = outcome.constraints ? outcome.constraints.every((c) => c <= 0) : true;
    if (!Number.isFinite(outcome.value) && outcome.feasible !== false && constraintsMet) {
      throw new OptimizerError({
        code: 'INVALID_INPUT',
        message: `objective value ${outcome.value} is not finite; report infeasible points with feasible: false`,
        location: 'observe',
      });
    }
    const pending = this.pending.get(key);
    this.pending.delete(key);
    const trial: Trial = {
      index: this.trials.length,
      point: this.space.toPoint(vector),
      value: outcome.value,
      feasible: outcome.feasible ?? constraintsMet,
      violations: outcome.violations ?? [],
      explored: pending?.explored ?? false,
      ...(outcome.data === undefined ? {} : { data: outcome.data }),
    };
    this.updateEpsilons(vector, outcome, pending);
    this.trials.push(trial);
    this.vectors.push(vector);
    this.constraintValues.push(outcome.constraints ? [...outcome.constraints] : undefined);
    this.seen.add(key);
    const previous = this.bestHistory.at(-1) ?? Number.POSITIVE_INFINITY;
    this.bestHistory.push(trial.feasible ? Math.min(previous, trial.value) : previous);
    return trial;
  }

  /** Suggest–evaluate–observe until `maxEvaluations`, convergence (ζ/λ) or an exhausted space. */
  async run(evaluate: Evaluate, options: RunOptions): Promise<OptimizationResult> {
    const batchSize = options.batchSize ?? 1;
    let stoppedBy: OptimizationResult['stoppedBy'] = 'max-evaluations';
    while (this.trials.length < options.maxEvaluations) {
      if (options.signal?.aborted) {
        throw new OptimizerError({
          code: 'ABORTED',
          message: 'optimisation aborted',
          cause: options.signal.reason,
        });
      }
      if (this.shouldStop()) {
        stoppedBy = 'converged';
        break;
      }
      const suggestions = this.suggest(Math.min(batchSize, options.maxEvaluations - this.trials.length));
      if (suggestions.length === 0) {
        stoppedBy = 'exhausted';
        break;
      }
      const results = await Promise.all(suggestions.map(async (suggestion) => evaluate(suggestion.point)));
      suggestions.forEach((suggestion, i) => {
        this.observe(suggestion.point, results[i]!);
      });
      options.onProgress?.({
        evaluations: this.trials.length,
        maxEvaluations: options.maxEvaluations,
        bestValue: this.best?.value,
      });
    }
    this.logger.debug?.('optimisation finished', { evaluations: this.trials.length, stoppedBy });
    return {
      best: this.best,
      evaluations: this.trials.length,
      trials: this.trials,
      bestValueHistory: [...this.bestHistory],
      stoppedBy,
    };
  }

  private bestVector(): number[] | undefined {
    const best = this.best;
    return best ? this.vectors[best.index] : undefined;
  }

  private isTaken(vector: readonly number[]): boolean {
    const key = this.space.key(vector);
    if (this.seen.has(key) || this.pending.has(key)) return true;
    const admissible = this.options.isAdmissible;
    return admissible ? !admissible(this.space.toPoint(vector)) : false;
  }

  private randomUnseen(): number[] | undefined {
    for (let attempt = 0; attempt < 200; attempt++) {
      const vector = this.space.sample(this.random);
      if (!this.isTaken(vector)) return vector;
    }
    if (Number.isFinite(this.space.size) && this.space.size <= this.options.enumerateLimit) {
      const free = this.allPoints().vectors.filter((vector) => !this.isTaken(vector));
      return free.length > 0 ? free[randomInteger(this.random, free.length)] : undefined;
    }
    return undefined;
  }

  private updateEpsilons(
    vector: number[],
    outcome: TrialResult,
    pending: PendingSuggestion | undefined,
  ): void {
    const schedule = this.options.epsilon;
    const violations = outcome.violations ?? [];
    const blamed = outcome.violatedDimensions
      ? new Set(
          outcome.violatedDimensions.map((name) => this.space.dimensions.findIndex((d) => d.name === name)),
        )
      : undefined;
    const incumbent = this.bestVector();
    const changed =
      pending?.changed ??
      new Set(vector.map((_, d) => d).filter((d) => !incumbent || incumbent[d] !== vector[d]));
    this.space.dimensions.forEach((_, d) => {
      const implicated = blamed && violations.length > 0 ? blamed.has(d) : changed.has(d);
      let rate = schedule.rho;
      if (implicated) {
        if (violations.includes('memory')) rate = schedule.rhoMemory;
        else if (violations.includes('payload')) rate = schedule.rhoPayload;
        else if (violations.length > 0 || outcome.feasible === false) rate = schedule.rhoMemory;
        else rate = schedule.rhoFeasible;
      }
      this.epsilonAge[d]! += rate;
    });
  }

  private explorePerDimension(proposal: number[]): { vector: number[]; explored: number[] } {
    const epsilons = this.space.dimensions.map(
      (_, d) => this.options.epsilon.initial / (1 + this.epsilonAge[d]!),
    );
    for (let attempt = 0; attempt < 20; attempt++) {
      const vector = [...proposal];
      const explored: number[] = [];
      this.space.dimensions.forEach((dimension, d) => {
        if (this.random() >= epsilons[d]!) return;
        for (let draw = 0; draw < 8; draw++) {
          const value = this.space.sampleDimension(dimension, this.random);
          if (value !== proposal[d]) {
            vector[d] = value;
            explored.push(d);
            break;
          }
        }
      });
      if (explored.length === 0) return { vector: proposal, explored };
      if (!this.isTaken(vector)) return { vector, explored };
    }
    return { vector: proposal, explored: [] };
  }

  private fitGp(
    rows: number[],
    targets: number[],
    previous: KernelHyperparameters | undefined,
  ): GaussianProcess {
    const width = this.space.featureCount;
    const features = new Float64Array(rows.length * width);
    rows.forEach((row, i) => {
      this.space.encode(this.vectors[row]!, features, i * width);
    });
    const model = new GaussianProcess({
      featureDimension: this.space.featureDimension,
      fitIterations: previous ? Math.ceil(this.options.fitIterations / 2) : this.options.fitIterations,
      ...(previous ? { initial: previous } : {}),
    });
    const n = this.trials.length;
    const refit =
      !previous ||
      n <= this.options.refitAfter ||
      (n - this.options.refitAfter) % this.options.refitEvery === 0;
    model.setData(features, targets, { fit: refit });
    return model;
  }

  private fitModel(): Surrogate {
    const indices = this.trials.map((_, i) => i);
    const constrained = this.constraintValues.some((values) => values !== undefined);
    const finiteRows = indices.filter((i) => Number.isFinite(this.trials[i]!.value));
    if (constrained && finiteRows.length >= 2) {
      // Objective on every finite value (feasible or not); one GP per constraint.
      const objective = this.fitGp(
        finiteRows,
        finiteRows.map((i) => this.trials[i]!.value),
        this.hyperparameters,
      );
      this.hyperparameters = objective.hyperparameters;
      const count = this.constraintValues.reduce((max, values) => Math.max(max, values?.length ?? 0), 0);
      const constraints: GaussianProcess[] = [];
      for (let c = 0; c < count; c++) {
        const rows = indices.filter((i) => Number.isFinite(this.constraintValues[i]?.[c] ?? Number.NaN));
        if (rows.length < 2) continue;
        const gp = this.fitGp(
          rows,
          rows.map((i) => this.constraintValues[i]![c]!),
          this.constraintHyperparameters[c],
        );
        this.constraintHyperparameters[c] = gp.hyperparameters;
        constraints.push(gp);
      }
      return { objective, constraints, constrained: true };
    }
    // Infeasible points get a value worse than every feasible one, so the surrogate steers away.
    let worst = Number.NEGATIVE_INFINITY;
    let bestValue = Number.POSITIVE_INFINITY;
    for (const trial of this.trials) {
      if (!trial.feasible) continue;
      worst = Math.max(worst, trial.value);
      bestValue = Math.min(bestValue, trial.value);
    }
    const spread = Number.isFinite(worst) ? Math.max(worst - bestValue, Math.abs(worst) * 0.1, 1e-9) : 1;
    const objective = this.fitGp(
      indices,
      this.trials.map((trial) =>
        trial.feasible ? trial.value : Number.isFinite(worst) ? worst + 0.25 * spread : 1,
      ),
      this.hyperparameters,
    );
    this.hyperparameters = objective.hyperparameters;
    return { objective, constraints: [], constrained: false };
  }

  private allPoints(): { vectors: number[][]; features: Float64Array } {
    if (!this.enumerated) {
      const vectors = [...this.space.enumerate()];
      const features = new Float64Array(vectors.length * this.space.featureCount);
      vectors.forEach((vector, i) => {
        this.space.encode(vector, features, i * this.space.featureCount);
      });
      this.enumerated = { vectors, features };
    }
    return this.enumerated;
  }

  /** EI (or UCB) weighted by the probability that every modelled constraint holds. */
  private acquisitionOf(model: Surrogate, features: Float64Array, offset: number, bestValue: number): number {
    let feasibility = 1;
    for (const constraint of model.constraints) {
      const prediction = constraint.predict(features, offset);
      feasibility *= normalCdf(-prediction.mean / Math.max(prediction.standardDeviation, 1e-12));
    }
    // Nothing feasible seen yet: look for feasibility first.
    if (model.constrained && !Number.isFinite(bestValue)) return feasibility;
    const { mean, standardDeviation } = model.objective.predict(features, offset);
    if (this.options.acquisition === 'ucb') {
      const bound = upperConfidenceBound(mean, standardDeviation, this.options.kappa);
      return feasibility >= 0.5 ? bound : bound - 1e6 * (0.5 - feasibility) * Math.abs(bound + 1);
    }
    return expectedImprovement(mean, standardDeviation, bestValue, this.xiAbsolute()) * feasibility;
  }

  private xiAbsolute(): number {
    let low = Number.POSITIVE_INFINITY;
    let high = Number.NEGATIVE_INFINITY;
    for (const trial of this.trials) {
      if (!trial.feasible) continue;
      low = Math.min(low, trial.value);
      high = Math.max(high, trial.value);
    }
    return Number.isFinite(low) ? this.options.xi * Math.max(high - low, 1e-12) : 0;
  }

  private incumbentValue(surrogate: Surrogate): number {
    const best = this.best;
    if (best) return best.value;
    if (surrogate.constrained) return Number.POSITIVE_INFINITY;
    const model = surrogate.objective;
    // No feasible point yet: improve on the best predicted value among observations.
    let value = Number.POSITIVE_INFINITY;
    const features = new Float64Array(this.space.featureCount);
    for (const vector of this.vectors) {
      this.space.encode(vector, features);
      value = Math.min(value, model.predict(features).mean);
    }
    return value;
  }

  private maximiseAcquisition(model: Surrogate): number[] | undefined {
    const bestValue = this.incumbentValue(model);
    if (Number.isFinite(this.space.size) && this.space.size <= this.options.enumerateLimit) {
      const { vectors, features } = this.allPoints();
      let bestScore = Number.NEGATIVE_INFINITY;
      let bestIndex = -1;
      for (let i = 0; i < vectors.length; i++) {
        if (this.isTaken(vectors[i]!)) continue;
        const score = this.acquisitionOf(model, features, i * this.space.featureCount, bestValue);
        if (score > bestScore || (score === bestScore && this.random() < 0.5)) {
          bestScore = score;
          bestIndex = i;
        }
      }
      return bestIndex >= 0 ? [...vectors[bestIndex]!] : undefined;
    }
    // Large or continuous space: random candidates plus neighbours of the best trials, then hill-climb.
    const candidates: number[][] = [];
    for (let i = 0; i < this.options.candidateCount; i++) candidates.push(this.space.sample(this.random));
    const ranked = this.trials
      .filter((trial) => trial.feasible)
      .sort((a, b) => a.value - b.value)
      .slice(0, 5);
    for (const trial of ranked) candidates.push(...this.neighbours(this.vectors[trial.index]!));
    const features = new Float64Array(this.space.featureCount);
    const score = (vector: number[]): number => {
      if (this.isTaken(vector)) return Number.NEGATIVE_INFINITY;
      this.space.encode(vector, features);
      return this.acquisitionOf(model, features, 0, bestValue);
    };
    let best: number[] | undefined;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (const candidate of candidates) {
      const value = score(candidate);
      if (value > bestScore) {
        bestScore = value;
        best = candidate;
      }
    }
    for (let round = 0; best && round < 10; round++) {
      let improved = false;
      for (const neighbour of this.neighbours(best)) {
        const value = score(neighbour);
        if (value > bestScore) {
          bestScore = value;
          best = neighbour;
          improved = true;
        }
      }
      if (!improved) break;
    }
    return Number.isFinite(bestScore) ? best : this.randomUnseen();
  }

  /** Points one step away in one dimension (±1 for ordered, every other category, jitter for reals). */
  private neighbours(vector: readonly number[]): number[][] {
    const result: number[][] = [];
    this.space.dimensions.forEach((dimension, d) => {
      const push = (value: number): void => {
        const next = [...vector];
        next[d] = value;
        result.push(next);
      };
      switch (dimension.kind) {
        case 'integer':
          if (vector[d]! > dimension.min) push(vector[d]! - 1);
          if (vector[d]! < dimension.max) push(vector[d]! + 1);
          break;
        case 'ordinal':
          if (vector[d]! > 0) push(vector[d]! - 1);
          if (vector[d]! < dimension.values.length - 1) push(vector[d]! + 1);
          break;
        case 'categorical':
          for (let i = 0; i < dimension.values.length; i++) if (i !== vector[d]) push(i);
          break;
        case 'real':
          for (let k = 0; k < 2; k++) {
            const width = dimension.log
              ? Math.log(dimension.max / dimension.min)
              : dimension.max - dimension.min;
            const step = 0.05 * width * randomNormal(this.random);
            const raw = dimension.log ? vector[d]! * Math.exp(step) : vector[d]! + step;
            push(Math.min(dimension.max, Math.max(dimension.min, raw)));
          }
          break;
      }
    });
    return result;
  }

  /** Power-Tuning-style coordinate sweep: all values of one dimension around the incumbent, in turn. */
  private nextSweepPoint(): number[] | undefined {
    const dimensions = this.space.dimensions.length;
    this.sweepState ??= { dimension: 0, queue: [], unproductive: 0 };
    const state = this.sweepState;
    while (state.queue.length === 0) {
      if (this.pending.size > 0) return undefined;
      if (state.unproductive >= dimensions) return undefined;
      const base =
        this.bestVector() ??
        this.space.dimensions.map((_, d) => {
          const grid = this.space.gridValues(d);
          return grid[Math.floor(grid.length / 2)]!;
        });
      const d = state.dimension;
      state.dimension = (d + 1) % dimensions;
      const queue: number[][] = [];
      const baseVector = [...base];
      if (!this.bestVector() && !this.isTaken(baseVector)) queue.push(baseVector);
      for (const value of this.space.gridValues(d)) {
        const vector = [...base];
        vector[d] = value;
        if (!this.isTaken(vector) && !queue.some((q) => this.space.key(q) === this.space.key(vector)))
          queue.push(vector);
      }
      state.unproductive = queue.length === 0 ? state.unproductive + 1 : 0;
      state.queue = queue;
    }
    return state.queue.shift();
  }
}
