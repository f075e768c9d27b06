import type { FitContext, ObservationSet } from './fit-context.js';
import { laneKey, mixA, mixB } from './key-table.js';
import { LayerModel } from './layer-model.js';

/**
 * The paper's predictor (architecture/paper.md, eq. 1): a profiled table P*(i | f1, f2, f3) marginalised over
 * f2 with a uniform prior (1/chunk) and over f3 with the token-frequency prior:
 *   P(i | f1) = Σ_{f2,f3} P*(i | f1, f2, f3) · (1/C) · π(f3).
 * Unseen cells fall back to P(i | f1) (so they contribute it unchanged); seen cells are the counts
 * smoothed towards it with an empirical-Bayes α. Without attention ids, f3 is absent.
 * The result is stored as a two-level model whose token rows are P(i | f1) exactly (α = 0).
 * Fitted on all tokens outside [excludeFrom, excludeTo) (a cross-fitting fold refits without its
 * tokens; the default strategy instead counts all layers at once and cross-fits by subtraction).
 */
export function fitPaperLayer(
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

export function paperCellKeys(data: ObservationSet, layer: number, numTokens: number): Float64Array {
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
