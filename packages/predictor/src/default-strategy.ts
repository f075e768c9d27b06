import { type FitContext, layerFreePrefix } from './fit-context.js';
import { LayerModel } from './layer-model.js';

/**
 * Counts the default strategy's tables in single passes over typed arrays: every token's row at every
 * level is found once (levels whose contexts do not depend on the layer are found once for all layers
 * and their tables copied), then the selections are counted at each token's finest row and aggregated
 * up. The finest rows are kept for the cross-fit, which recounts without a fold and never hashes.
 */
export function countDefaultLayers(context: FitContext): LayerModel[] {
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
export function subtractFold(
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
