import {
  type Logger,
  noopLogger,
  normalQuantile,
  parseWithSchema,
  type RoutingTrace,
} from '@switchyard/core';
import { inputError } from './errors.js';
import {
  computeLevelKeys,
  type KeyContext,
  type LevelKind,
  type TokenBatch,
  validateBatch,
} from './features.js';
import { laneKey, mixA, mixB } from './key-table.js';
import { LayerModel } from './layer-model.js';
import {
  type FitOptions,
  fitOptionsSchema,
  type PredictorStrategy,
  type ResolvedFitOptions,
} from './options.js';

/** Expected load per (layer, expert) of a batch with a central predictive interval. Arrays are [L × E]. */
export interface LoadPrediction {
  numLayers: number;
  numExperts: number;
  numTokens: number;
  /** Nominal coverage of [low, high]. */
  level: number;
  /** Expected selections (token count) per expert: K · Σ_t p_t(e). */
  mean: Float64Array;
  /** Predictive standard deviation (Poisson-binomial + calibrated model term). */
  standardDeviation: Float64Array;
  low: Float64Array;
  high: Float64Array;
}

/** Drift of recent routing away from the model, from the log-likelihood of observed selections. */
export interface DriftStatus {
  /** Mean log-likelihood per selection on cross-fitted calibration batches. */
  baselineLogLikelihood: number;
  /** Standard deviation of that mean across calibration batches. */
  baselineStandardDeviation: number;
  /** Exponentially weighted recent log-likelihood per selection (half-life = one batch); NaN before any observation. */
  recentLogLikelihood: number;
  /** (baseline − recent) / baseline standard deviation. */
  score: number;
  threshold: number;
  drifting: boolean;
  observedTokens: number;
}

export interface ObserveResult {
  numTokens: number;
  /** Per layer τ after this batch (recalibrated online once enough batches were observed). */
  modelSpread: number[];
  /** Predictive log-likelihood per selection of this batch, before the update. */
  logLikelihoodPerSelection: number;
  drift: DriftStatus;
}

/** Fitted state the serialiser stores (see serialization.ts). */
export interface PredictorState {
  strategy: PredictorStrategy;
  modelName: string;
  numExperts: number;
  topK: number;
  moeLayers: number[];
  chunk: number;
  contextTokens: number;
  usePreviousLayer: boolean;
  hasAttention: boolean;
  intervalLevel: number;
  batchTokens: number;
  halfLifeTokens: number | null;
  driftThreshold: number;
  /** Per layer τ: relative model-error standard deviation added to the Poisson-binomial variance. */
  modelSpread: number[];
  ladders: LevelKind[][];
  layers: LayerModel[];
  drift: { baselineLogLikelihood: number; baselineStandardDeviation: number };
  calibrationTokens: number;
}

interface Scratch {
  weights: Float64Array[];
  varianceWeights: Float64Array;
  touchedLevel: Int32Array;
  touchedRow: Int32Array;
  probabilities: Float64Array;
  rowOut: Int32Array;
}

/** Per-token expert probabilities and batch load prediction from a fitted model; updates online. */
export class Predictor {
  readonly state: PredictorState;
  private readonly z: number;
  private recentLogLikelihood = Number.NaN;
  /** Per layer one-step-ahead (mean, variance, actual) of recently observed batches, for online τ. */
  private readonly recent: { mean: number[]; variance: number[]; actual: number[] }[];
  private observedTokens = 0;
  private keyBuffer = new Float64Array(0);
  private readonly scratch: Scratch[];

  constructor(state: PredictorState) {
    this.state = state;
    this.z = normalQuantile(0.5 + state.intervalLevel / 2);
    this.recent = state.layers.map(() => ({ mean: [], variance: [], actual: [] }));
    this.scratch = state.layers.map((model) => ({
      weights: model.levels.map(() => new Float64Array(0)),
      varianceWeights: new Float64Array(0),
      touchedLevel: new Int32Array(0),
      touchedRow: new Int32Array(0),
      probabilities: new Float64Array(state.numExperts),
      rowOut: new Int32Array(1),
    }));
  }

  get strategy(): PredictorStrategy {
    return this.state.strategy;
  }
  get numLayers(): number {
    return this.state.layers.length;
  }
  get numExperts(): number {
    return this.state.numExperts;
  }
  get topK(): number {
    return this.state.topK;
  }

  private get keyContext(): KeyContext {
    return {
      numLayers: this.numLayers,
      topK: this.topK,
      chunk: this.state.chunk,
      contextTokens: this.state.contextTokens,
    };
  }

  /** Level keys of every token of `batch` for `layer` (a reused buffer, [levels × T]). */
  private keysFor(batch: TokenBatch, layer: number, numTokens: number): Float64Array {
    const ladder = this.state.ladders[layer]!;
    const needed = ladder.length * numTokens;
    if (this.keyBuffer.length < needed) this.keyBuffer = new Float64Array(needed);
    const keys = this.keyBuffer.subarray(0, needed);
    computeLevelKeys(batch, layer, ladder, this.keyContext, keys);
    return keys;
  }

  /** The context keys of every token at every level of `layer`'s ladder ([levels × T], a new array). */
  levelKeys(batch: TokenBatch, layer: number): Float64Array {
    this.checkLayer(layer);
    const T = validateBatch(batch, this.keyContext, this.numExperts);
    const keys = new Float64Array(this.state.ladders[layer]!.length * T);
    computeLevelKeys(batch, layer, this.state.ladders[layer]!, this.keyContext, keys);
    return keys;
  }

  private checkLayer(layer: number): void {
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.numLayers)
      throw inputError(`layer ${layer} is outside 0..${this.numLayers - 1}`, 'layer');
  }

  /**
   * Expert probabilities (summing to 1 per token; a token's K selections are K draws) of every token
   * of `batch` at MoE layer `layer`, as [T × E].
   */
  tokenProbabilities(batch: TokenBatch, layer: number, out?: Float64Array): Float64Array {
    this.checkLayer(layer);
    const T = validateBatch(batch, this.keyContext, this.numExperts);
    const E = this.numExperts;
    const result = out ?? new Float64Array(T * E);
    if (result.length < T * E) throw inputError(`out has ${result.length} entries, needs ${T * E}`, 'out');
    const keys = this.keysFor(batch, layer, T);
    const model = this.state.layers[layer]!;
    const row = this.scratch[layer]!.probabilities;
    for (let t = 0; t < T; t++) {
      model.tokenProbabilities(keys, T, t, row);
      result.set(row, t * E);
    }
    return result;
  }

  /**
   * Expected load per (layer, expert) of a batch, with a central `level` interval. Uses the previous
   * layer's routing where `batch.topkIds` gives it (dispatch time); otherwise backs off to the
   * token-context levels (planning ahead).
   */
  predictLoad(batch: TokenBatch): LoadPrediction {
    const T = validateBatch(batch, this.keyContext, this.numExperts);
    if (T === 0) throw inputError('the batch has no tokens', 'batch.tokens');
    const L = this.numLayers;
    const E = this.numExperts;
    const mean = new Float64Array(L * E);
    const variance = new Float64Array(L * E);
    for (let layer = 0; layer < L; layer++) {
      const keys = this.keysFor(batch, layer, T);
      this.accumulateLoad(
        layer,
        keys,
        T,
        0,
        T,
        mean.subarray(layer * E, (layer + 1) * E),
        variance.subarray(layer * E, (layer + 1) * E),
      );
    }
    return this.intervals(mean, variance, T);
  }

  /** Turns per-layer mean and Poisson-binomial variance into a prediction with intervals. */
  intervals(mean: Float64Array, variance: Float64Array, numTokens: number): LoadPrediction {
    const L = this.numLayers;
    const E = this.numExperts;
    const standardDeviation = new Float64Array(L * E);
    const low = new Float64Array(L * E);
    const high = new Float64Array(L * E);
    for (let layer = 0; layer < L; layer++) {
      const spread = this.state.modelSpread[layer]!;
      for (let e = layer * E; e < (layer + 1) * E; e++) {
        const m = mean[e]!;
        const sd = Math.sqrt(variance[e]! + spread * spread * m * m);
        standardDeviation[e] = sd;
        low[e] = Math.max(0, m - this.z * sd);
        high[e] = Math.min(numTokens, m + this.z * sd);
      }
    }
    return {
      numLayers: L,
      numExperts: E,
      numTokens,
      level: this.state.intervalLevel,
      mean,
      standardDeviation,
      low,
      high,
    };
  }

  /**
   * Adds tokens [from, to) of precomputed keys to `mean` (K·Σ p_t) and `variance`.
   *
   * The mean is exact and linear in the counts: a row r reached by weight W contributes
   * W·n_r/(N_r + α) to the mean and passes W·α/(N_r + α) to its parent, so each distinct context
   * costs one pass over its E counts, deepest level first, with no per-token vector.
   * The Poisson-binomial variance Σ_t π(1 − π), π = K·p (≤ 1, an expert is picked at most once per
   * token), is taken at the token level (the coarse p of each token id): by Jensen this is an upper
   * bound of the per-context variance, and the interval's model term is calibrated on top of it.
   */
  accumulateLoad(
    layer: number,
    keys: Float64Array,
    numTokens: number,
    from: number,
    to: number,
    mean: Float64Array,
    variance: Float64Array,
  ): void {
    const model = this.state.layers[layer]!;
    const scratch = this.scratch[layer]!;
    const E = this.numExperts;
    const K = this.topK;
    const levels = model.numLevels;
    const varianceLevel = Math.min(1, levels - 1);
    const span = to - from;
    if (scratch.touchedRow.length < levels * span + span) {
      scratch.touchedRow = new Int32Array(levels * span + span);
      scratch.touchedLevel = new Int32Array(levels + 1);
    }
    for (let level = 0; level < levels; level++) {
      if (scratch.weights[level]!.length < model.levels[level]!.rows)
        scratch.weights[level] = new Float64Array(Math.max(16, model.levels[level]!.rows * 2));
    }
    if (scratch.varianceWeights.length < model.levels[varianceLevel]!.rows)
      scratch.varianceWeights = new Float64Array(Math.max(16, model.levels[varianceLevel]!.rows * 2));
    // touchedRow holds one list per level at offset level·span, and the variance list at levels·span.
    const touched = scratch.touchedLevel.fill(0);
    const rowOut = scratch.rowOut;
    let unknown = 0;
    let unknownVariance = 0;
    for (let t = from; t < to; t++) {
      // Bottom-up: contexts nest, so the first hit from the finest level is the deepest.
      let top = levels - 1;
      while (top >= 0 && Number.isNaN(keys[top * numTokens + t]!)) top--;
      let deepest = -1;
      let deepestRow = 0;
      for (let level = top; level >= 0; level--) {
        const row = model.levels[level]!.table.find(keys[level * numTokens + t]!);
        if (row !== -1) {
          deepest = level;
          deepestRow = row;
          break;
        }
      }
      let varianceRow = -1;
      if (deepest >= varianceLevel) {
        varianceRow = deepestRow;
        for (let level = deepest; level > varianceLevel; level--)
          varianceRow = model.levels[level]!.parents[varianceRow]!;
      }
      if (deepest < 0) {
        unknown++;
        unknownVariance++;
        continue;
      }
      const weights = scratch.weights[deepest]!;
      if (weights[deepestRow] === 0) scratch.touchedRow[deepest * span + touched[deepest]!++] = deepestRow;
      weights[deepestRow]! += 1;
      if (varianceRow < 0) {
        unknownVariance++;
        continue;
      }
      if (scratch.varianceWeights[varianceRow] === 0)
        scratch.touchedRow[levels * span + touched[levels]!++] = varianceRow;
      scratch.varianceWeights[varianceRow]! += 1;
    }
    rowOut[0] = 0;
    let toBase = unknown;
    for (let level = levels - 1; level >= 0; level--) {
      const counts = model.levels[level]!;
      const weights = scratch.weights[level]!;
      const alpha = model.concentrations[level]! * model.scale;
      const parentWeights = level > 0 ? scratch.weights[level - 1]! : undefined;
      for (let i = 0; i < touched[level]!; i++) {
        const row = scratch.touchedRow[level * span + i]!;
        const weight = weights[row]!;
        weights[row] = 0;
        const inverse = 1 / (counts.totals[row]! + alpha);
        const own = weight * inverse * K;
        const offset = row * E;
        for (let e = 0; e < E; e++) mean[e]! += own * counts.counts[offset + e]!;
        const passed = weight * alpha * inverse;
        if (parentWeights) {
          const parent = counts.parents[row]!;
          if (parentWeights[parent] === 0)
            scratch.touchedRow[(level - 1) * span + touched[level - 1]!++] = parent;
          parentWeights[parent]! += passed;
        } else toBase += passed;
      }
    }
    for (let e = 0; e < E; e++) mean[e]! += toBase * K * model.base[e]!;
    const p = scratch.probabilities;
    const addVariance = (weight: number): void => {
      for (let e = 0; e < E; e++) {
        const inclusion = Math.min(1, K * p[e]!);
        variance[e]! += weight * inclusion * (1 - inclusion);
      }
    };
    for (let i = 0; i < touched[levels]!; i++) {
      const row = scratch.touchedRow[levels * span + i]!;
      model.probabilities(varianceLevel, row, p);
      addVariance(scratch.varianceWeights[row]!);
      scratch.varianceWeights[row] = 0;
    }
    if (unknownVariance > 0) {
      model.probabilities(-1, 0, p);
      addVariance(unknownVariance);
    }
  }

  /**
   * Conjugate update from routing observed while serving (needs `batch.topkIds`), with exponential
   * forgetting at the fitted half-life. Returns the batch's predictive log-likelihood and the drift
   * status. The `paper` strategy is static, as in the paper: it only tracks drift.
   */
  observe(batch: TokenBatch): ObserveResult {
    const T = validateBatch(batch, this.keyContext, this.numExperts);
    if (T === 0) throw inputError('the batch has no tokens', 'batch.tokens');
    const ids = batch.topkIds;
    if (!ids) throw inputError('observe needs the routing (topkIds) of the batch', 'batch.topkIds');
    const K = this.topK;
    let logLikelihood = 0;
    for (let layer = 0; layer < this.numLayers; layer++) {
      const keys = this.keysFor(batch, layer, T);
      const model = this.state.layers[layer]!;
      this.recordInterval(layer, keys, T, ids);
      const rowOut = this.scratch[layer]!.rowOut;
      for (let t = 0; t < T; t++) {
        const level = model.deepestRow(keys, T, t, rowOut);
        const base = (layer * T + t) * K;
        for (let j = 0; j < K; j++)
          logLikelihood += Math.log(model.expertProbability(level, rowOut[0]!, ids[base + j]!));
      }
      if (this.state.strategy === 'paper') continue;
      const halfLife = this.state.halfLifeTokens;
      const step = halfLife === null ? 1 : 2 ** (1 / halfLife);
      for (let t = 0; t < T; t++) {
        model.addToken(keys, T, t, ids, (layer * T + t) * K, model.scale);
        if (halfLife !== null) {
          model.scale *= step;
          if (model.scale > 1e150) model.normaliseScale();
        }
      }
    }
    const perSelection = logLikelihood / (T * K * this.numLayers);
    const decay = 2 ** (-T / this.state.batchTokens);
    this.recentLogLikelihood = Number.isNaN(this.recentLogLikelihood)
      ? perSelection
      : decay * this.recentLogLikelihood + (1 - decay) * perSelection;
    this.observedTokens += T;
    return {
      numTokens: T,
      modelSpread: [...this.state.modelSpread],
      logLikelihoodPerSelection: perSelection,
      drift: this.drift(),
    };
  }

  /**
   * Online interval calibration: keeps the one-step-ahead prediction of the last
   * `onlineCalibrationBatches` observed batches per layer and, once there are at least a quarter of
   * them, sets τ to the smallest spread that covers them at the nominal level (as at fit time, but on
   * the routing actually served).
   */
  private recordInterval(layer: number, keys: Float64Array, numTokens: number, ids: ArrayLike<number>): void {
    const E = this.numExperts;
    const K = this.topK;
    const mean = new Float64Array(E);
    const variance = new Float64Array(E);
    this.accumulateLoad(layer, keys, numTokens, 0, numTokens, mean, variance);
    const actual = new Float64Array(E);
    const base = layer * numTokens * K;
    for (let i = 0; i < numTokens * K; i++) actual[ids[base + i]!]! += 1;
    const recent = this.recent[layer]!;
    for (let e = 0; e < E; e++) {
      recent.mean.push(mean[e]!);
      recent.variance.push(variance[e]!);
      recent.actual.push(actual[e]!);
    }
    const capacity = onlineCalibrationBatches * E;
    if (recent.mean.length > capacity) {
      const drop = recent.mean.length - capacity;
      recent.mean.splice(0, drop);
      recent.variance.splice(0, drop);
      recent.actual.splice(0, drop);
    }
    if (recent.mean.length >= (onlineCalibrationBatches / 4) * E)
      this.state.modelSpread[layer] = calibrateSpread(recent, this.z, this.state.intervalLevel);
  }

  /** Current drift status (see DriftStatus). */
  drift(): DriftStatus {
    const { baselineLogLikelihood, baselineStandardDeviation } = this.state.drift;
    const score = Number.isNaN(this.recentLogLikelihood)
      ? 0
      : (baselineLogLikelihood - this.recentLogLikelihood) / Math.max(baselineStandardDeviation, 1e-9);
    return {
      baselineLogLikelihood,
      baselineStandardDeviation,
      recentLogLikelihood: this.recentLogLikelihood,
      score,
      threshold: this.state.driftThreshold,
      drifting: score > this.state.driftThreshold,
      observedTokens: this.observedTokens,
    };
  }
}

/** Observed batches per layer kept for online interval calibration. */
const onlineCalibrationBatches = 64;

/** Calibration data concatenated from one or more traces, as a batch with explicit positions. */
interface ObservationSet extends Required<Pick<TokenBatch, 'tokens' | 'positions'>> {
  topkIds: Int16Array;
  attentionIds?: Int32Array;
}

function concatenateTraces(traces: RoutingTrace[]): { data: ObservationSet; first: RoutingTrace } {
  if (traces.length === 0) throw inputError('no calibration traces were given', 'traces');
  const first = traces[0]!;
  const L = first.numLayers;
  const K = first.topK;
  const E = first.meta.num_experts;
  let total = 0;
  for (const [index, trace] of traces.entries()) {
    if (trace.numTokens === 0) throw inputError('trace is empty (0 tokens)', `traces[${index}]`);
    if (trace.numLayers !== L || trace.topK !== K || trace.meta.num_experts !== E)
      throw inputError(
        `trace has ${trace.numLayers} layers × ${trace.meta.num_experts} experts top-${trace.topK}, the first has ${L} × ${E} top-${K}`,
        `traces[${index}]`,
      );
    total += trace.numTokens;
  }
  const tokens = new Int32Array(total);
  const positions = new Int32Array(total);
  const topkIds = new Int16Array(L * total * K);
  const withAttention = traces.every((trace) => trace.attentionIds);
  const attentionIds = withAttention ? new Int32Array(L * total) : undefined;
  let offset = 0;
  for (const trace of traces) {
    const T = trace.numTokens;
    tokens.set(trace.tokens, offset);
    for (let t = 0; t < T; t++) positions[offset + t] = t % trace.meta.chunk;
    for (let layer = 0; layer < L; layer++) {
      topkIds.set(trace.topkIds.subarray(layer * T * K, (layer + 1) * T * K), (layer * total + offset) * K);
      if (attentionIds && trace.attentionIds)
        attentionIds.set(trace.attentionIds.subarray(layer * T, (layer + 1) * T), layer * total + offset);
    }
    offset += T;
  }
  return { data: { tokens, positions, topkIds, ...(attentionIds ? { attentionIds } : {}) }, first };
}

function laddersFor(options: ResolvedFitOptions, numLayers: number, hasAttention: boolean): LevelKind[][] {
  return Array.from({ length: numLayers }, (_, layer) => {
    if (options.strategy === 'paper') return ['global', 'token'] as LevelKind[];
    const ladder: LevelKind[] = ['global', 'token'];
    if (hasAttention) ladder.push('attention');
    for (let i = 0; i < options.contextTokens; i++) ladder.push('context');
    if (options.usePreviousLayer && layer > 0) ladder.push('previousLayer');
    return ladder;
  });
}

function baseDistribution(numExperts: number, prior: number[] | undefined, where: string): Float64Array {
  const base = new Float64Array(numExperts);
  if (!prior) return base.fill(1 / numExperts);
  if (prior.length !== numExperts)
    throw inputError(`prior load has ${prior.length} experts, the trace has ${numExperts}`, where);
  // Laplace-smoothed so no expert has prior mean 0.
  const total = prior.reduce((a, b) => a + b, 0) + numExperts;
  for (let e = 0; e < numExperts; e++) base[e] = (prior[e]! + 1) / total;
  return base;
}

interface FitContext {
  options: ResolvedFitOptions;
  data: ObservationSet;
  numTokens: number;
  numExperts: number;
  topK: number;
  chunk: number;
  ladders: LevelKind[][];
  keys: Float64Array[];
  /** Paper strategy: [T] key of the (f1, f2, f3) cell of each token and f3 per cell row. */
  cellKeys?: Float64Array[];
  bases: Float64Array[];
}

/** Fits one layer on all tokens outside [excludeFrom, excludeTo). */
function fitLayer(
  context: FitContext,
  layer: number,
  excludeFrom: number,
  excludeTo: number,
  concentrations?: Float64Array,
): LayerModel {
  const { numTokens: T, numExperts: E, topK: K, data } = context;
  const ladder = context.ladders[layer]!;
  const keys = context.keys[layer]!;
  if (context.options.strategy === 'paper')
    return fitPaperLayer(context, layer, excludeFrom, excludeTo, concentrations);
  const model = new LayerModel(
    E,
    K,
    ladder.length,
    context.bases[layer]!,
    ladder.map(() => Math.min(T, 1 << 16)),
  );
  for (let t = 0; t < T; t++) {
    if (t >= excludeFrom && t < excludeTo) continue;
    model.addToken(keys, T, t, data.topkIds, (layer * T + t) * K, 1);
  }
  if (concentrations) model.concentrations.set(concentrations);
  else model.fitConcentrations();
  return model;
}

/**
 * The paper's predictor (DESIGN.md §1, eq. 1): a profiled table P*(i | f1, f2, f3) marginalised over
 * f2 with a uniform prior (1/chunk) and over f3 with the token-frequency prior:
 *   P(i | f1) = Σ_{f2,f3} P*(i | f1, f2, f3) · (1/C) · π(f3).
 * Unseen cells fall back to P(i | f1) (so they contribute it unchanged); seen cells are the counts
 * smoothed towards it with an empirical-Bayes α. Without attention ids, f3 is absent.
 * The result is stored as a two-level model whose token rows are P(i | f1) exactly (α = 0).
 */
function fitPaperLayer(
  context: FitContext,
  layer: number,
  excludeFrom: number,
  excludeTo: number,
  concentrations?: Float64Array,
): LayerModel {
  const { numTokens: T, numExperts: E, topK: K, data, chunk } = context;
  const keys = context.keys[layer]!;
  const cellKeys = context.cellKeys![layer]!;
  const counting = new LayerModel(E, K, 3, context.bases[layer]!, [1, 4096, 65536]);
  const keys3 = new Float64Array(3 * T);
  keys3.set(keys.subarray(0, 2 * T));
  keys3.set(cellKeys, 2 * T);
  const tokenFrequency = new Map<number, number>();
  let included = 0;
  for (let t = 0; t < T; t++) {
    if (t >= excludeFrom && t < excludeTo) continue;
    counting.addToken(keys3, T, t, data.topkIds, (layer * T + t) * K, 1);
    tokenFrequency.set(data.tokens[t]!, (tokenFrequency.get(data.tokens[t]!) ?? 0) + 1);
    included++;
  }
  if (concentrations) {
    counting.concentrations.set(concentrations.subarray(0, 2));
    counting.concentrations[2] = concentrations[2] ?? 1;
  } else counting.fitConcentrations();
  // f3 of every cell row, to weight it by the attention-id prior.
  const cellAttention = new Int32Array(counting.levels[2]!.rows).fill(-1);
  if (data.attentionIds) {
    for (let t = 0; t < T; t++) {
      if (t >= excludeFrom && t < excludeTo) continue;
      const row = counting.levels[2]!.table.find(cellKeys[t]!);
      cellAttention[row] = data.attentionIds[layer * T + t]!;
    }
  }
  const tokenLevel = counting.levels[1]!;
  const marginal = new Float64Array(tokenLevel.rows * E);
  const tokenPosterior = new Float64Array(E);
  const cell = new Float64Array(E);
  for (let r = 0; r < tokenLevel.rows; r++) {
    counting.probabilities(1, r, tokenPosterior);
    marginal.set(tokenPosterior, r * E);
  }
  const cells = counting.levels[2]!;
  for (let r = 0; r < cells.rows; r++) {
    const parent = cells.parents[r]!;
    const attentionPrior = data.attentionIds ? (tokenFrequency.get(cellAttention[r]!) ?? 0) / included : 1;
    const weight = attentionPrior / chunk;
    counting.probabilities(2, r, cell);
    counting.probabilities(1, parent, tokenPosterior);
    for (let e = 0; e < E; e++) marginal[parent * E + e]! += weight * (cell[e]! - tokenPosterior[e]!);
  }
  // Materialise: level 0 as counted, level 1 rows hold P(i | f1) scaled by the row's count, α = 0.
  const model = new LayerModel(E, K, 2, context.bases[layer]!, [1, tokenLevel.rows]);
  const global = counting.levels[0]!;
  const outGlobal = model.levels[0]!;
  outGlobal.rowFor(keys[0]!, -1);
  outGlobal.counts.set(global.counts.subarray(0, E));
  outGlobal.totals[0] = global.totals[0]!;
  const outToken = model.levels[1]!;
  for (let t = 0; t < T; t++) {
    const key = keys[T + t]!;
    if (outToken.table.find(key) !== -1) continue;
    const source = tokenLevel.table.find(key);
    if (source === -1) continue;
    const row = outToken.rowFor(key, 0);
    const total = tokenLevel.totals[source]!;
    for (let e = 0; e < E; e++) outToken.counts[row * E + e] = Math.max(0, marginal[source * E + e]!) * total;
    outToken.totals[row] = total;
  }
  model.concentrations[0] = counting.concentrations[0]!;
  model.concentrations[1] = 0;
  // Keep α of the cell level for refits on folds.
  model.auxiliaryConcentration = counting.concentrations[2]!;
  return model;
}

function paperCellKeys(data: ObservationSet, layer: number, numTokens: number): Float64Array {
  const out = new Float64Array(numTokens);
  for (let t = 0; t < numTokens; t++) {
    const attention = data.attentionIds ? data.attentionIds[layer * numTokens + t]! + 1 : 0;
    let a = mixA(0x1f2e3d, data.tokens[t]! + 1);
    let b = mixB(0x4c5b6a, data.tokens[t]! + 1);
    a = mixA(mixA(a, data.positions[t]! + 1), attention);
    b = mixB(mixB(b, data.positions[t]! + 1), attention);
    out[t] = laneKey(a, b);
  }
  return out;
}

/**
 * Fits a predictor on calibration traces (DESIGN.md §3 format). Concentrations by empirical Bayes;
 * interval spread and the drift baseline by cross-fitting contiguous folds of the calibration data.
 */
export function fitPredictor(traces: RoutingTrace | RoutingTrace[], options: FitOptions = {}): Predictor {
  const resolved = parseWithSchema(fitOptionsSchema, options, 'fitPredictor options');
  const logger: Logger = resolved.logger ?? noopLogger;
  const { data, first } = concatenateTraces(Array.isArray(traces) ? traces : [traces]);
  const T = data.tokens.length;
  const L = first.numLayers;
  const E = first.meta.num_experts;
  const K = first.topK;
  const chunk = first.meta.chunk;
  const hasAttention = data.attentionIds !== undefined && resolved.useAttention;
  if (resolved.priorExpertLoad && resolved.priorExpertLoad.length !== L)
    throw inputError(
      `priorExpertLoad has ${resolved.priorExpertLoad.length} layers, the trace has ${L}`,
      'priorExpertLoad',
    );
  const ladders = laddersFor(resolved, L, hasAttention);
  const keyContext: KeyContext = { numLayers: L, topK: K, chunk, contextTokens: resolved.contextTokens };
  const keys = ladders.map((ladder, layer) => {
    const out = new Float64Array(ladder.length * T);
    computeLevelKeys(data, layer, ladder, keyContext, out);
    return out;
  });
  const context: FitContext = {
    options: resolved,
    data,
    numTokens: T,
    numExperts: E,
    topK: K,
    chunk,
    ladders,
    keys,
    ...(resolved.strategy === 'paper'
      ? { cellKeys: ladders.map((_, layer) => paperCellKeys(data, layer, T)) }
      : {}),
    bases: ladders.map((_, layer) =>
      baseDistribution(E, resolved.priorExpertLoad?.[layer], `priorExpertLoad[${layer}]`),
    ),
  };
  if (resolved.concentrations) {
    for (let layer = 0; layer < L; layer++) {
      const given = resolved.concentrations[layer];
      if (!given || given.length !== ladders[layer]!.length)
        throw inputError(
          `concentrations[${layer}] needs ${ladders[layer]!.length} values (${ladders[layer]!.join(', ')})`,
          'concentrations',
        );
    }
  }
  const layers = ladders.map((_, layer) => {
    const fixed = resolved.concentrations?.[layer];
    return fitLayer(context, layer, 0, 0, fixed ? Float64Array.from(fixed) : undefined);
  });
  logger.debug('predictor: fitted counts', {
    strategy: resolved.strategy,
    tokens: T,
    concentrations: layers.map((model) => Array.from(model.concentrations)),
  });
  const state: PredictorState = {
    strategy: resolved.strategy,
    modelName: first.meta.model,
    numExperts: E,
    topK: K,
    moeLayers: [...first.meta.moe_layers],
    chunk,
    contextTokens: resolved.strategy === 'paper' ? 0 : resolved.contextTokens,
    usePreviousLayer: resolved.strategy === 'default' && resolved.usePreviousLayer,
    hasAttention,
    intervalLevel: resolved.intervalLevel,
    batchTokens: resolved.batchTokens,
    halfLifeTokens: resolved.halfLifeTokens,
    driftThreshold: resolved.driftThreshold,
    modelSpread: new Array<number>(L).fill(0),
    ladders,
    layers,
    drift: { baselineLogLikelihood: 0, baselineStandardDeviation: 1 },
    calibrationTokens: T,
  };
  calibrate(state, context, logger);
  return new Predictor(state);
}

/**
 * Cross-fitting: for each contiguous fold, refit on the other folds (same concentrations), predict the
 * fold's B-token batches and record (mean, Poisson-binomial variance, actual) per layer × expert and
 * the batch's log-likelihood. τ per layer is the smallest relative spread whose intervals reach the
 * nominal coverage on those records; the drift baseline is the batches' mean log-likelihood.
 */
function calibrate(state: PredictorState, context: FitContext, logger: Logger): void {
  const { numTokens: T, numExperts: E, topK: K, data, chunk } = context;
  const B = Math.min(state.batchTokens, Math.floor(T / (2 * context.options.calibrationFolds)));
  const folds = context.options.calibrationFolds;
  if (B < 1) {
    logger.warn('predictor: too little calibration data to calibrate intervals', { tokens: T });
    return;
  }
  const L = state.layers.length;
  const records: { mean: number[]; variance: number[]; actual: number[] }[] = Array.from(
    { length: L },
    () => ({
      mean: [],
      variance: [],
      actual: [],
    }),
  );
  const batchLogLikelihoods: number[] = [];
  const foldTokens = Math.ceil(T / folds / chunk) * chunk;
  const rowOut = new Int32Array(1);
  for (let fold = 0; fold < folds; fold++) {
    const from = fold * foldTokens;
    const to = Math.min(T, from + foldTokens);
    if (to - from < B) continue;
    const models = state.layers.map((model, layer) => {
      if (state.strategy === 'default') {
        // Conjugacy: the fold's model is the full counts minus the fold's tokens.
        const copy = model.cloneCounts();
        for (let t = from; t < to; t++)
          copy.subtractToken(context.keys[layer]!, T, t, data.topkIds, (layer * T + t) * K, 1);
        return copy;
      }
      const alphas = Float64Array.from(model.concentrations);
      const paperCell = model.auxiliaryConcentration;
      const fixed = Number.isNaN(paperCell) ? alphas : Float64Array.from([...alphas, paperCell]);
      return fitLayer(context, layer, from, to, fixed);
    });
    const foldPredictor = new Predictor({ ...state, layers: models });
    for (let start = from; start + B <= to; start += B) {
      let logLikelihood = 0;
      for (let layer = 0; layer < L; layer++) {
        const mean = new Float64Array(E);
        const variance = new Float64Array(E);
        const keys = context.keys[layer]!;
        foldPredictor.accumulateLoad(layer, keys, T, start, start + B, mean, variance);
        const actual = new Float64Array(E);
        const foldModel = models[layer]!;
        for (let t = start; t < start + B; t++) {
          const level = foldModel.deepestRow(keys, T, t, rowOut);
          for (let j = 0; j < K; j++) {
            const expert = data.topkIds[(layer * T + t) * K + j]!;
            actual[expert]! += 1;
            logLikelihood += Math.log(foldModel.expertProbability(level, rowOut[0]!, expert));
          }
        }
        const record = records[layer]!;
        for (let e = 0; e < E; e++) {
          record.mean.push(mean[e]!);
          record.variance.push(variance[e]!);
          record.actual.push(actual[e]!);
        }
      }
      batchLogLikelihoods.push(logLikelihood / (B * K * L));
    }
  }
  if (batchLogLikelihoods.length === 0) return;
  const z = normalQuantile(0.5 + state.intervalLevel / 2);
  state.modelSpread = records.map((record) => calibrateSpread(record, z, state.intervalLevel));
  const average = batchLogLikelihoods.reduce((a, b) => a + b, 0) / batchLogLikelihoods.length;
  const spread =
    batchLogLikelihoods.length > 1
      ? Math.sqrt(
          batchLogLikelihoods.reduce((a, b) => a + (b - average) ** 2, 0) / (batchLogLikelihoods.length - 1),
        )
      : Math.abs(average) * 0.05;
  state.drift = { baselineLogLikelihood: average, baselineStandardDeviation: spread };
  logger.debug('predictor: calibrated', {
    modelSpread: state.modelSpread,
    batches: batchLogLikelihoods.length,
  });
}

/** Smallest τ ≥ 0 with coverage(|actual − mean| ≤ z·√(var + τ²mean²)) ≥ level. */
export function calibrateSpread(
  record: { mean: number[]; variance: number[]; actual: number[] },
  z: number,
  level: number,
): number {
  const coverage = (spread: number): number => {
    let inside = 0;
    for (let i = 0; i < record.mean.length; i++) {
      const m = record.mean[i]!;
      const sd = Math.sqrt(record.variance[i]! + spread * spread * m * m);
      if (Math.abs(record.actual[i]! - m) <= z * sd) inside++;
    }
    return inside / record.mean.length;
  };
  if (coverage(0) >= level) return 0;
  let low = 0;
  let high = 0.05;
  while (coverage(high) < level && high < 100) {
    low = high;
    high *= 2;
  }
  for (let i = 0; i < 40; i++) {
    const middle = (low + high) / 2;
    if (coverage(middle) >= level) high = middle;
    else low = middle;
  }
  return high;
}

/**
 * A predictor from aggregated counts only (per-layer expert load, e.g. fixtures/data/real-routing),
 * for when no per-token trace exists: each layer is its global level, a Dirichlet posterior with a
 * uniform Dirichlet(1) prior. Intervals hold the Poisson-binomial and the Dirichlet posterior
 * variance of the popularity (τ² = Var[p_e]/p_e²); there is no data to calibrate them further.
 */
export function predictorFromExpertLoad(
  expertLoad: number[][],
  options: {
    topK: number;
    modelName?: string;
    chunk?: number;
    intervalLevel?: number;
    batchTokens?: number;
    halfLifeTokens?: number | null;
    driftThreshold?: number;
    /** Count the load as this many selections (down-weights data from another domain); default as given. */
    effectiveSelections?: number;
  },
): Predictor {
  if (expertLoad.length === 0) throw inputError('expert load has no layers', 'expertLoad');
  const E = expertLoad[0]!.length;
  if (E === 0) throw inputError('expert load has no experts', 'expertLoad[0]');
  if (!Number.isInteger(options.topK) || options.topK < 1 || options.topK > E)
    throw inputError(`topK must be an integer in 1..${E}`, 'topK');
  const layers = expertLoad.map((load, layer) => {
    if (load.length !== E)
      throw inputError(`layer ${layer} has ${load.length} experts, layer 0 has ${E}`, `expertLoad[${layer}]`);
    if (load.some((count) => !(count >= 0)))
      throw inputError('counts must be non-negative numbers', `expertLoad[${layer}]`);
    const total = load.reduce((a, b) => a + b, 0);
    if (total === 0) throw inputError('layer has no counts', `expertLoad[${layer}]`);
    const factor = options.effectiveSelections ? options.effectiveSelections / total : 1;
    const model = new LayerModel(E, options.topK, 1, new Float64Array(E).fill(1 / E), [1]);
    const level = model.levels[0]!;
    level.rowFor(globalKey(), -1);
    for (let e = 0; e < E; e++) level.counts[e] = load[e]! * factor;
    level.totals[0] = total * factor;
    model.concentrations[0] = E;
    return model;
  });
  const spread = layers.map((model) => {
    // Relative posterior sd of the popularity, averaged over experts weighted by load.
    const level = model.levels[0]!;
    const n = level.totals[0]! + E;
    let weighted = 0;
    for (let e = 0; e < E; e++) {
      const mean = (level.counts[e]! + 1) / n;
      weighted += mean * Math.sqrt((1 - mean) / (mean * (n + 1)));
    }
    return weighted;
  });
  return new Predictor({
    strategy: 'default',
    modelName: options.modelName ?? 'aggregated-load',
    numExperts: E,
    topK: options.topK,
    moeLayers: expertLoad.map((_, layer) => layer),
    chunk: options.chunk ?? 2048,
    contextTokens: 0,
    usePreviousLayer: false,
    hasAttention: false,
    intervalLevel: options.intervalLevel ?? 0.9,
    batchTokens: options.batchTokens ?? 1024,
    halfLifeTokens: options.halfLifeTokens ?? null,
    driftThreshold: options.driftThreshold ?? 3,
    modelSpread: spread,
    ladders: expertLoad.map(() => ['global'] as LevelKind[]),
    layers,
    drift: { baselineLogLikelihood: Number.NaN, baselineStandardDeviation: Number.NaN },
    calibrationTokens: 0,
  });
}

/** The key of the global level (what computeLevelKeys gives every token at level 0). */
function globalKey(): number {
  const keys = new Float64Array(1);
  computeLevelKeys(
    { tokens: new Int32Array(1) },
    0,
    ['global'],
    { numLayers: 1, topK: 1, chunk: 1, contextTokens: 0 },
    keys,
  );
  return keys[0]!;
}
