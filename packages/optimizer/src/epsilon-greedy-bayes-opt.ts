import {
  createRandom,
  type Logger,
  noopLogger,
  parseWithSchema,
  type RandomSource,
  randomInteger,
} from '@switchyard/core';
import { CoordinateSweep } from './coordinate-sweep.js';
import { EpsilonSchedule } from './epsilon-schedule.js';
import { OptimizerError } from './errors.js';
import { type OptimizerOptions, optimizerOptionsSchema, type ResolvedOptimizerOptions } from './options.js';
import { type Dimension, type Point, SearchSpace } from './search-space.js';
import { acquisitionValue, type Surrogate, SurrogateFitter } from './surrogate.js';
import type { Evaluate, OptimizationResult, RunOptions, Suggestion, Trial, TrialResult } from './trial.js';

interface PendingSuggestion {
  vector: number[];
  /** Dimensions that differ from the incumbent when suggested. */
  changed: Set<number>;
  explored: boolean;
}

/**
 * Bayesian optimisation over a mixed search space with the multi-dimensional ε-greedy search of
 * Liu, Wang, Wu (INFOCOM 2025, §IV; architecture/paper.md): the acquisition maximiser proposes a
 * point, then each dimension d is independently re-drawn at random with probability
 * ε_d = ε₀ / (1 + Σ ρ_d,t) (`EpsilonSchedule`). Minimises. Use `suggest`/`observe` (ask–tell,
 * batches for parallel evaluation) or `run`.
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
  private readonly schedule: EpsilonSchedule;
  private readonly surrogates: SurrogateFitter;
  private readonly bestHistory: number[] = [];
  private readonly constraintValues: (readonly number[] | undefined)[] = [];
  private enumerated: { vectors: number[][]; features: Float64Array } | undefined;
  private sweep: CoordinateSweep | undefined;

  constructor(
    dimensions: readonly Dimension[] | SearchSpace,
    options: OptimizerOptions & { logger?: Logger | undefined } = {},
  ) {
    this.space = dimensions instanceof SearchSpace ? dimensions : new SearchSpace(dimensions);
    this.options = parseWithSchema(optimizerOptionsSchema, options, 'EpsilonGreedyBayesOpt options');
    this.random = this.options.random ?? createRandom(this.options.seed);
    this.logger = options.logger ?? noopLogger;
    this.schedule = new EpsilonSchedule(this.options.epsilon, this.space);
    this.surrogates = new SurrogateFitter(this.space, this.options);
  }

  /** Current per-dimension exploration probabilities. */
  get epsilons(): Record<string, number> {
    const result: Record<string, number> = {};
    this.space.dimensions.forEach((dimension, d) => {
      result[dimension.name] = this.schedule.epsilon(d);
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
        this.sweep ??= new CoordinateSweep(this.space);
        vector = this.sweep.next(this.pending.size, this.bestVector(), (v) => this.isTaken(v));
      } else if (
        strategy === 'random' ||
        observed < this.options.initialEvaluations ||
        this.trials.length < 2
      ) {
        vector = this.randomUnseen();
        explored = vector ? this.space.dimensions.map((_, d) => d) : [];
      } else {
        model ??= this.surrogates.fit({
          trials: this.trials,
          vectors: this.vectors,
          constraintValues: this.constraintValues,
        });
        const proposal = this.maximiseAcquisition(model);
        if (!proposal) break;
        vector = proposal;
        if (strategy === 'epsilon-greedy-bo') {
          ({ vector, explored } = this.schedule.explore(proposal, this.random, (v) => this.isTaken(v)));
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
      data: outcome.data,
    };
    // A point observed without being suggested is judged against the incumbent before it.
    const incumbent = this.bestVector();
    const changed =
      pending?.changed ??
      new Set(vector.map((_, d) => d).filter((d) => !incumbent || incumbent[d] !== vector[d]));
    this.schedule.record(outcome, changed);
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

  /** EI's exploration margin ξ in the objective's units: `xi` × the spread of feasible values. */
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

  /**
   * The untaken point with the highest acquisition: every point of a finite space up to
   * `enumerateLimit`, else random candidates plus neighbours of the best trials, hill-climbed.
   */
  private maximiseAcquisition(model: Surrogate): number[] | undefined {
    const bestValue = this.incumbentValue(model);
    const settings = {
      acquisition: this.options.acquisition,
      kappa: this.options.kappa,
      xi: this.xiAbsolute(),
    };
    if (Number.isFinite(this.space.size) && this.space.size <= this.options.enumerateLimit) {
      const { vectors, features } = this.allPoints();
      let bestScore = Number.NEGATIVE_INFINITY;
      let bestIndex = -1;
      for (let i = 0; i < vectors.length; i++) {
        if (this.isTaken(vectors[i]!)) continue;
        const score = acquisitionValue(model, features, i * this.space.featureCount, bestValue, settings);
        if (score > bestScore || (score === bestScore && this.random() < 0.5)) {
          bestScore = score;
          bestIndex = i;
        }
      }
      return bestIndex >= 0 ? [...vectors[bestIndex]!] : undefined;
    }
    const candidates: number[][] = [];
    for (let i = 0; i < this.options.candidateCount; i++) candidates.push(this.space.sample(this.random));
    const ranked = this.trials
      .filter((trial) => trial.feasible)
      .sort((a, b) => a.value - b.value)
      .slice(0, 5);
    for (const trial of ranked)
      candidates.push(...this.space.neighbours(this.vectors[trial.index]!, this.random));
    const features = new Float64Array(this.space.featureCount);
    const score = (vector: number[]): number => {
      if (this.isTaken(vector)) return Number.NEGATIVE_INFINITY;
      this.space.encode(vector, features);
      return acquisitionValue(model, features, 0, bestValue, settings);
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
      for (const neighbour of this.space.neighbours(best, this.random)) {
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
}
