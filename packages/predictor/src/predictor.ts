import { normalQuantile } from '@switchyard/core';
import { calibrateDispersion, neededDispersion } from './dispersion.js';
import { inputError } from './errors.js';
import {
  computeLevelKeys,
  type KeyContext,
  type LevelKind,
  type TokenBatch,
  validateBatch,
} from './features.js';
import type { LayerModel } from './layer-model.js';
import { LoadAccumulator, UnseenContexts } from './load-accumulator.js';
import type { PredictorStrategy } from './options.js';

/** Expected load per (layer, expert) of a batch with a central predictive interval. Arrays are [L × E]. */
export interface LoadPrediction {
  numLayers: number;
  numExperts: number;
  numTokens: number;
  /** Nominal coverage of [low, high]. */
  level: number;
  /** Expected selections (token count) per expert: K · Σ_t p_t(e). */
  mean: Float64Array;
  /** Predictive standard deviation: √(φ · hierarchical predictive variance), φ per layer. */
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
  /** Per layer over-dispersion φ after this batch (recalibrated online once enough batches were observed). */
  overdispersion: number[];
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
  /**
   * Per layer over-dispersion φ: the load variance is φ times the model's predictive variance
   * (batches of contiguous text are more alike inside than independent tokens would be).
   */
  overdispersion: number[];
  ladders: LevelKind[][];
  layers: LayerModel[];
  drift: { baselineLogLikelihood: number; baselineStandardDeviation: number };
  calibrationTokens: number;
}

interface Scratch {
  /** Batch load accumulator of the layer's model (rebuilt if the model object changes). */
  accumulator?: LoadAccumulator;
  probabilities: Float64Array;
  rowOut: Int32Array;
}

/** Observed batches per layer kept for online interval calibration. */
const onlineCalibrationBatches = 64;

/** Per-token expert probabilities and batch load prediction from a fitted model; updates online. */
export class Predictor {
  readonly state: PredictorState;
  private readonly z: number;
  private recentLogLikelihood = Number.NaN;
  /** Per layer, the variance factors φ each recently observed (batch, expert) needed (see calibrateDispersion). */
  private readonly recent: number[][];
  private observedTokens = 0;
  private keyBuffer = new Float64Array(0);
  private readonly scratch: Scratch[];
  private readonly unseenContexts = new UnseenContexts();

  constructor(state: PredictorState) {
    this.state = state;
    this.z = normalQuantile(0.5 + state.intervalLevel / 2);
    this.recent = state.layers.map(() => []);
    this.scratch = state.layers.map(() => ({
      probabilities: new Float64Array(state.numExperts),
      rowOut: new Int32Array(1),
    }));
  }

  /** The layer's load accumulator (its model may have been replaced, e.g. by a fold model). */
  accumulator(layer: number): LoadAccumulator {
    const scratch = this.scratch[layer]!;
    const model = this.state.layers[layer]!;
    if (scratch.accumulator?.model !== model) scratch.accumulator = new LoadAccumulator(model);
    return scratch.accumulator;
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

  /** Turns per-layer mean and model variance into a prediction with intervals (variance × φ). */
  intervals(mean: Float64Array, variance: Float64Array, numTokens: number): LoadPrediction {
    const L = this.numLayers;
    const E = this.numExperts;
    const standardDeviation = new Float64Array(L * E);
    const low = new Float64Array(L * E);
    const high = new Float64Array(L * E);
    for (let layer = 0; layer < L; layer++) {
      const dispersion = this.state.overdispersion[layer]!;
      for (let e = layer * E; e < (layer + 1) * E; e++) {
        const m = mean[e]!;
        const sd = Math.sqrt(dispersion * variance[e]!);
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
   * Adds tokens [from, to) of precomputed keys to `mean` (K·Σ p̂_t) and `variance` (the hierarchical
   * model's predictive variance, see LoadAccumulator). Each token's deepest known context is found by
   * binary search over the levels (contexts nest, so the known levels are a prefix); the levels below
   * it that the table does not hold are grouped by key, because tokens sharing a new context are
   * correlated. Returns the accumulator, whose `probability` reads p̂ of the touched rows.
   */
  accumulateLoad(
    layer: number,
    keys: Float64Array,
    numTokens: number,
    from: number,
    to: number,
    mean: Float64Array,
    variance: Float64Array,
  ): LoadAccumulator {
    const model = this.state.layers[layer]!;
    const accumulator = this.accumulator(layer);
    accumulator.clear();
    const levels = model.numLevels;
    const tables = model.levels.map((level) => level.table);
    const unseen = this.unseenContexts;
    unseen.begin((to - from) * levels);
    for (let t = from; t < to; t++) {
      let top = levels - 1;
      while (top >= 0 && Number.isNaN(keys[top * numTokens + t]!)) top--;
      if (top < 0) {
        accumulator.addToken(-1, 0);
        continue;
      }
      let known = -1;
      let knownRow = tables[top]!.find(keys[top * numTokens + t]!);
      if (knownRow !== -1) known = top;
      else {
        let unknown = top;
        while (unknown - known > 1) {
          const middle = (known + unknown) >> 1;
          const row = tables[middle]!.find(keys[middle * numTokens + t]!);
          if (row === -1) unknown = middle;
          else {
            known = middle;
            knownRow = row;
          }
        }
      }
      accumulator.addToken(known, knownRow);
      for (let c = known + 1; c <= top; c++) {
        const sharing = unseen.add(keys[c * numTokens + t]!);
        if (sharing > 0) accumulator.addUnseenPair(known, knownRow, c, sharing);
      }
    }
    accumulator.finish(mean, variance);
    return accumulator;
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
      logLikelihoodPerSelection: perSelection,
      overdispersion: [...this.state.overdispersion],
      drift: this.drift(),
    };
  }

  /**
   * Online interval calibration: keeps, for the last `onlineCalibrationBatches` observed batches per
   * layer, the factor φ each (batch, expert) one-step-ahead prediction would have needed, and once
   * there are at least a quarter of them sets φ to their nominal-level quantile (the fit-time rule,
   * on the routing actually served).
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
    for (let e = 0; e < E; e++) recent.push(neededDispersion(actual[e]! - mean[e]!, variance[e]!, this.z));
    const capacity = onlineCalibrationBatches * E;
    if (recent.length > capacity) recent.splice(0, recent.length - capacity);
    if (recent.length >= (onlineCalibrationBatches / 4) * E)
      this.state.overdispersion[layer] = calibrateDispersion(recent, this.state.intervalLevel);
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
