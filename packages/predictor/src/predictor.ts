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
import { LoadAccumulator, UnseenContexts } from './load-accumulator.js';
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
  /** Default strategy: per layer, every token's finest level and its row there. */
  finest?: { level: Int8Array; row: Int32Array }[];
}

/** How many leading levels of a ladder do not depend on the layer (same contexts on every layer). */
function layerFreePrefix(ladder: readonly LevelKind[]): number {
  let length = 0;
  while (length < ladder.length && ladder[length] !== 'attention' && ladder[length] !== 'previousLayer')
    length++;
  return length;
}

/**
 * Counts the default strategy's tables in single passes over typed arrays: every token's row at every
 * level is found once (levels whose contexts do not depend on the layer are found once for all layers
 * and their tables copied), then the selections are counted at each token's finest row and aggregated
 * up. The finest rows are kept for the cross-fit, which recounts without a fold and never hashes.
 */
function countDefaultLayers(context: FitContext): LayerModel[] {
  const { numTokens: T, numExperts: E, topK: K, data } = context;
  const rowIds: Int32Array[] = [];
  const finest: { level: Int8Array; row: Int32Array }[] = [];
  const layers: LayerModel[] = [];
  let idsBuffer: Int32Array | undefined;
  for (let layer = 0; layer < context.ladders.length; layer++) {
    const ladder = context.ladders[layer]!;
    const keys = context.keys[layer]!;
    // Rows are found first and the count arrays sized once they are known (fitCapacity).
    const expected = ladder.map(() => 1);
    const model = new LayerModel(E, K, ladder.length, context.bases[layer]!, expected);
    // Layer 0's ids are kept (the other layers copy its shared levels); later layers reuse one buffer.
    const ids =
      layer > 0 && idsBuffer && idsBuffer.length >= ladder.length * T
        ? idsBuffer.subarray(0, ladder.length * T)
        : new Int32Array(ladder.length * T);
    if (layer === 1) idsBuffer = ids;
    const shared = layer === 0 ? 0 : Math.min(layerFreePrefix(ladder), layerFreePrefix(context.ladders[0]!));
    for (let c = 0; c < ladder.length; c++) {
      const out = ids.subarray(c * T, (c + 1) * T);
      if (c < shared) {
        model.levels[c] = layers[0]!.levels[c]!.cloneStructure();
        out.set(rowIds[0]!.subarray(c * T, (c + 1) * T));
        continue;
      }
      const level = model.levels[c]!;
      const parentIds = c > 0 ? ids.subarray((c - 1) * T, c * T) : undefined;
      for (let t = 0; t < T; t++) {
        const key = keys[c * T + t]!;
        const parent = parentIds ? parentIds[t]! : -1;
        out[t] = Number.isNaN(key) || (parentIds && parent < 0) ? -1 : level.rowOf(key, parent);
      }
    }
    for (let c = shared; c < ladder.length; c++) model.levels[c]!.fitCapacity();
    // Each token's finest context (the deepest level with a row); its selections are counted there
    // once, and every row's counts are then added to its parent's, deepest level first (sequential
    // passes over rows instead of one random access per token and level).
    const finestLevel = new Int8Array(T).fill(-1);
    const finestRow = new Int32Array(T);
    for (let c = 0; c < ladder.length; c++)
      for (let t = 0; t < T; t++) {
        const row = ids[c * T + t]!;
        if (row >= 0) {
          finestLevel[t] = c;
          finestRow[t] = row;
        }
      }
    countByFinestRow(model, { level: finestLevel, row: finestRow }, data.topkIds, layer, T, 0, 0);
    // Layer 0's row ids give the other layers their shared levels.
    if (layer === 0) rowIds.push(ids);
    finest.push({ level: finestLevel, row: finestRow });
    layers.push(model);
  }
  context.finest = finest;
  return layers;
}

/**
 * Sets a default-strategy layer model's counts to `full` minus the selections of tokens [from, to):
 * the fold's selections are counted once per token at its finest row into `fold`, aggregated up to
 * the parents (sequential passes), and subtracted row by row (exact: integer counts in float64).
 */
function subtractFold(
  model: LayerModel,
  finest: { level: Int8Array; row: Int32Array },
  selections: ArrayLike<number>,
  layer: number,
  numTokens: number,
  from: number,
  to: number,
  full: { counts: Float64Array; totals: Float64Array }[],
  fold: { counts: Float64Array; totals: Float64Array }[],
): void {
  const E = model.numExperts;
  const K = model.topK;
  model.levels.forEach((level, c) => {
    fold[c]!.counts.fill(0, 0, level.rows * E);
    fold[c]!.totals.fill(0, 0, level.rows);
  });
  for (let t = from; t < to; t++) {
    const c = finest.level[t]!;
    if (c < 0) continue;
    const counts = fold[c]!.counts;
    const row = finest.row[t]!;
    const base = row * E;
    const offset = (layer * numTokens + t) * K;
    for (let j = 0; j < K; j++) counts[base + selections[offset + j]!]! += 1;
    fold[c]!.totals[row]! += K;
  }
  for (let c = model.numLevels - 1; c >= 0; c--) {
    const level = model.levels[c]!;
    const counts = fold[c]!.counts;
    const totals = fold[c]!.totals;
    if (c > 0) {
      const parentCounts = fold[c - 1]!.counts;
      const parentTotals = fold[c - 1]!.totals;
      for (let r = 0; r < level.rows; r++) {
        const total = totals[r]!;
        if (total === 0) continue;
        const parent = level.parents[r]!;
        const offset = r * E;
        const parentOffset = parent * E;
        for (let e = 0; e < E; e++) parentCounts[parentOffset + e]! += counts[offset + e]!;
        parentTotals[parent]! += total;
      }
    }
    const fullCounts = full[c]!.counts;
    const fullTotals = full[c]!.totals;
    for (let i = 0; i < level.rows * E; i++) level.counts[i] = fullCounts[i]! - counts[i]!;
    for (let r = 0; r < level.rows; r++) level.totals[r] = fullTotals[r]! - totals[r]!;
  }
}

/**
 * Sets a default-strategy layer model's counts to the selections of all tokens outside
 * [excludeFrom, excludeTo): each token is counted once at its finest row, then every row is added to
 * its parent's, deepest level first (one random access per token, the rest sequential passes).
 */
function countByFinestRow(
  model: LayerModel,
  finest: { level: Int8Array; row: Int32Array },
  selections: ArrayLike<number>,
  layer: number,
  numTokens: number,
  excludeFrom: number,
  excludeTo: number,
): void {
  const E = model.numExperts;
  const K = model.topK;
  for (const level of model.levels) {
    level.counts.fill(0, 0, level.rows * E);
    level.totals.fill(0, 0, level.rows);
  }
  const countRange = (from: number, to: number): void => {
    for (let t = from; t < to; t++) {
      const c = finest.level[t]!;
      if (c < 0) continue;
      const level = model.levels[c]!;
      const row = finest.row[t]!;
      const base = row * E;
      const offset = (layer * numTokens + t) * K;
      for (let j = 0; j < K; j++) level.counts[base + selections[offset + j]!]! += 1;
      level.totals[row]! += K;
    }
  };
  countRange(0, excludeFrom);
  countRange(Math.max(excludeFrom, excludeTo), numTokens);
  for (let c = model.numLevels - 1; c > 0; c--) {
    const level = model.levels[c]!;
    const parentLevel = model.levels[c - 1]!;
    const counts = level.counts;
    const parentCounts = parentLevel.counts;
    const parentTotals = parentLevel.totals;
    for (let r = 0; r < level.rows; r++) {
      const parentOffset = level.parents[r]! * E;
      const offset = r * E;
      for (let e = 0; e < E; e++) parentCounts[parentOffset + e]! += counts[offset + e]!;
      parentTotals[level.parents[r]!]! += level.totals[r]!;
    }
  }
}

/**
 * Fits one layer of the paper strategy on all tokens outside [excludeFrom, excludeTo) (the default
 * strategy counts all layers at once in countDefaultLayers and cross-fits by subtraction).
 */
function fitLayer(
  context: FitContext,
  layer: number,
  excludeFrom: number,
  excludeTo: number,
  concentrations?: Float64Array,
): LayerModel {
  return fitPaperLayer(context, layer, excludeFrom, excludeTo, concentrations);
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
  const counting = new LayerModel(E, K, 3, context.bases[layer]!, [1, Math.min(T, 4096), Math.min(T, 4096)]);
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
 * interval over-dispersion and the drift baseline by cross-fitting contiguous folds of the calibration data.
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
  // Levels whose contexts do not depend on the layer hash the same on every layer: layer 0 hashes
  // them once and the other layers copy those keys and resume from the saved hash lanes.
  let keysOfLayerZero: Float64Array | undefined;
  const prefix = layerFreePrefix(ladders[0]!);
  const lanes = { laneA: new Int32Array(T), laneB: new Int32Array(T), level: prefix - 1 };
  const keys = ladders.map((ladder, layer) => {
    const out = new Float64Array(ladder.length * T);
    const shared = layer === 0 ? 0 : Math.min(prefix, layerFreePrefix(ladder));
    if (shared === prefix && prefix > 0) {
      // The default strategy counts those levels once (by row id), so only the paper needs the copy.
      if (resolved.strategy !== 'default') out.set(keysOfLayerZero!.subarray(0, prefix * T));
      computeLevelKeys(data, layer, ladder, keyContext, out, { resume: lanes });
    } else computeLevelKeys(data, layer, ladder, keyContext, out, prefix > 0 ? { save: lanes } : {});
    if (layer === 0) keysOfLayerZero = out;
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
  const layers =
    resolved.strategy === 'default'
      ? countDefaultLayers(context)
      : ladders.map((_, layer) => {
          const fixed = resolved.concentrations?.[layer];
          return fitLayer(context, layer, 0, 0, fixed ? Float64Array.from(fixed) : undefined);
        });
  if (resolved.strategy === 'default') {
    let largest = 0;
    for (const model of layers) for (const level of model.levels) largest = Math.max(largest, level.rows * E);
    const scratch: [Float64Array, Float64Array] = [new Float64Array(largest), new Float64Array(largest)];
    layers.forEach((model, layer) => {
      const fixed = resolved.concentrations?.[layer];
      if (fixed) model.concentrations.set(fixed);
      else model.fitConcentrations(undefined, scratch);
    });
  }
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
    overdispersion: new Array<number>(L).fill(1),
    ladders,
    layers,
    drift: { baselineLogLikelihood: 0, baselineStandardDeviation: 1 },
    calibrationTokens: T,
  };
  calibrate(state, context, logger);
  return new Predictor(state);
}

/**
 * Cross-fitting: for each contiguous fold, the model without the fold (default strategy: the full
 * counts minus the fold's, by conjugacy, restored afterwards; paper: refitted with the same α) predicts
 * the fold's B-token batches. Every (batch, layer, expert) gives the variance factor its actual load
 * needed, r² / (z² · model variance); φ per layer is the nominal-level quantile of those factors (a
 * split-conformal rule: on data like the calibration text, the intervals cover the nominal share).
 * The drift baseline is the batches' mean log-likelihood per selection.
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
  const z = normalQuantile(0.5 + state.intervalLevel / 2);
  const needed: number[][] = Array.from({ length: L }, () => []);
  const batchLogLikelihoods: number[] = [];
  const foldTokens = Math.ceil(T / folds / chunk) * chunk;
  const rowOut = new Int32Array(1);
  const mean = new Float64Array(E);
  const variance = new Float64Array(E);
  const actual = new Float64Array(E);
  const byRowId = state.strategy === 'default' && context.finest !== undefined;
  // Default strategy: every calibration token's deepest context is its finest level's row.
  const finest = byRowId ? context.finest : undefined;
  const fullPredictor = new Predictor(state);
  const selections = data.topkIds;
  const ranges: { from: number; to: number; firstBatch: number }[] = [];
  for (let fold = 0; fold < folds; fold++) {
    const from = fold * foldTokens;
    const to = Math.min(T, from + foldTokens);
    if (to - from < B) continue;
    ranges.push({ from, to, firstBatch: batchLogLikelihoods.length });
    for (let start = from; start + B <= to; start += B) batchLogLikelihoods.push(0);
  }
  // Default strategy: a fold's model is the full counts minus the fold's (conjugacy). The fold's
  // counts are counted once per token at its finest row and aggregated up (sequential), then
  // subtracted row by row; scratch arrays per level are shared by all layers.
  const levelSizes: number[] = [];
  if (byRowId)
    for (const model of state.layers)
      model.levels.forEach((level, c) => {
        levelSizes[c] = Math.max(levelSizes[c] ?? 0, level.rows);
      });
  const full = levelSizes.map((rows) => ({
    counts: new Float64Array(rows * E),
    totals: new Float64Array(rows),
  }));
  const fold = levelSizes.map((rows) => ({
    counts: new Float64Array(rows * E),
    totals: new Float64Array(rows),
  }));
  // Layer by layer, so one layer's tables stay in cache while its folds' batches are predicted.
  for (let layer = 0; layer < L; layer++) {
    const model = state.layers[layer]!;
    if (byRowId)
      model.levels.forEach((level, c) => {
        full[c]!.counts.set(level.counts.subarray(0, level.rows * E));
        full[c]!.totals.set(level.totals.subarray(0, level.rows));
      });
    for (const { from, to, firstBatch } of ranges) {
      let foldPredictor = fullPredictor;
      if (byRowId) subtractFold(model, finest![layer]!, selections, layer, T, from, to, full, fold);
      else {
        const alphas = Float64Array.from(model.concentrations);
        const paperCell = model.auxiliaryConcentration;
        const fixed = Number.isNaN(paperCell) ? alphas : Float64Array.from([...alphas, paperCell]);
        const foldModel = fitLayer(context, layer, from, to, fixed);
        foldPredictor = new Predictor({
          ...state,
          layers: state.layers.map((other, index) => (index === layer ? foldModel : other)),
        });
      }
      for (let start = from, batch = firstBatch; start + B <= to; start += B, batch++) {
        let logLikelihood = 0;
        mean.fill(0);
        variance.fill(0);
        actual.fill(0);
        if (finest) {
          const { level, row } = finest[layer]!;
          const accumulator = foldPredictor.accumulator(layer);
          accumulator.clear();
          for (let t = start; t < start + B; t++) accumulator.addToken(level[t]!, row[t]!);
          accumulator.finish(mean, variance);
          for (let t = start; t < start + B; t++) {
            // About one log per token: multiply the K probabilities, flushing before underflow.
            let product = 1;
            for (let j = 0; j < K; j++) {
              const expert = selections[(layer * T + t) * K + j]!;
              actual[expert]! += 1;
              product *= accumulator.probability(level[t]!, row[t]!, expert);
              if (product < 1e-150) {
                logLikelihood += Math.log(product);
                product = 1;
              }
            }
            logLikelihood += Math.log(product);
          }
        } else {
          const keys = context.keys[layer]!;
          foldPredictor.accumulateLoad(layer, keys, T, start, start + B, mean, variance);
          const foldModel = foldPredictor.state.layers[layer]!;
          for (let t = start; t < start + B; t++) {
            const level = foldModel.deepestRow(keys, T, t, rowOut);
            for (let j = 0; j < K; j++) {
              const expert = selections[(layer * T + t) * K + j]!;
              actual[expert]! += 1;
              logLikelihood += Math.log(foldModel.expertProbability(level, rowOut[0]!, expert));
            }
          }
        }
        for (let e = 0; e < E; e++)
          needed[layer]!.push(neededDispersion(actual[e]! - mean[e]!, variance[e]!, z));
        batchLogLikelihoods[batch]! += logLikelihood / (B * K * L);
      }
    }
    if (byRowId)
      model.levels.forEach((level, c) => {
        level.counts.set(full[c]!.counts.subarray(0, level.rows * E));
        level.totals.set(full[c]!.totals.subarray(0, level.rows));
      });
  }
  if (batchLogLikelihoods.length === 0) return;
  state.overdispersion = needed.map((factors) => calibrateDispersion(factors, state.intervalLevel));
  const average = batchLogLikelihoods.reduce((a, b) => a + b, 0) / batchLogLikelihoods.length;
  const spread =
    batchLogLikelihoods.length > 1
      ? Math.sqrt(
          batchLogLikelihoods.reduce((a, b) => a + (b - average) ** 2, 0) / (batchLogLikelihoods.length - 1),
        )
      : Math.abs(average) * 0.05;
  state.drift = { baselineLogLikelihood: average, baselineStandardDeviation: spread };
  logger.debug('predictor: calibrated', {
    overdispersion: state.overdispersion,
    batches: batchLogLikelihoods.length,
  });
}

/** The variance factor φ a prediction needed to cover a residual: r² / (z² · variance). */
export function neededDispersion(residual: number, variance: number, z: number): number {
  const squared = residual * residual;
  if (variance > 0) return squared / (z * z * variance);
  return squared > 1e-18 ? Number.POSITIVE_INFINITY : 0;
}

/**
 * Smallest φ whose intervals m ± z·√(φ·v) cover at least `level` of the records, given each record's
 * needed factor (neededDispersion): their ⌈level·(n + 1)⌉-th smallest (split-conformal quantile).
 */
export function calibrateDispersion(needed: readonly number[], level: number): number {
  if (needed.length === 0) return 1;
  const sorted = Float64Array.from(needed).sort();
  const rank = Math.min(sorted.length, Math.ceil(level * (sorted.length + 1))) - 1;
  const factor = sorted[Math.max(0, rank)]!;
  // All records exact (e.g. deterministic routing): keep the model's own variance.
  if (factor === 0) return 1;
  if (Number.isFinite(factor)) return factor;
  // Records the model gave no variance but that moved: the widest finite factor is the best we have.
  let widest = 1;
  for (const value of sorted) if (Number.isFinite(value) && value > widest) widest = value;
  return widest;
}

/**
 * A predictor from aggregated counts only (per-layer expert load, e.g. fixtures/data/real-routing),
 * for when no per-token trace exists: each layer is its global level, a Dirichlet posterior with a
 * uniform Dirichlet(1) prior. Intervals hold the Poisson-binomial and the Dirichlet posterior
 * variance of the popularity (the model's predictive variance, φ = 1); there is no data to calibrate
 * them further.
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
    // The global row's Dirichlet posterior variance is part of the model variance; nothing calibrates φ.
    overdispersion: layers.map(() => 1),
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
