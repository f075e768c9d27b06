import { CountLevel } from './count-level.js';
import { maximiseByNewton } from './maximise-by-newton.js';

/**
 * Hierarchical Dirichlet-multinomial over one MoE layer's experts. Level 0 is the layer's global
 * popularity with `base` as its prior mean; level c's row for a context has level c − 1's row for the
 * coarser context as prior mean:  p_c(e) = (n_c(e) + α_c p_{c−1}(e)) / (N_c + α_c).
 * Every token adds its K selected experts at every level its features reach (k draws).
 *
 * Forgetting: counts are stored multiplied by `scale`; an observation adds `scale`, and the scale
 * grows by 2^(1/half-life) per observed token, which is the same as decaying every count. Readers
 * divide by the scale (equivalently, multiply α by it).
 */
export class LayerModel {
  readonly levels: CountLevel[];
  readonly concentrations: Float64Array;
  scale = 1;
  /** Paper strategy: α of the (f1, f2, f3) cell level folded into the token rows (for refits). */
  auxiliaryConcentration = Number.NaN;
  private readonly chain: Int32Array;

  constructor(
    readonly numExperts: number,
    readonly topK: number,
    readonly numLevels: number,
    readonly base: Float64Array,
    expectedRows: number[] = [],
  ) {
    this.levels = Array.from(
      { length: numLevels },
      (_, level) => new CountLevel(numExperts, level === 0 ? 1 : (expectedRows[level] ?? 64)),
    );
    this.concentrations = new Float64Array(numLevels).fill(1);
    this.chain = new Int32Array(numLevels);
  }

  /** Adds one token's selected experts (ids[offset .. offset+K)) at every level with a key. */
  addToken(
    keys: Float64Array,
    numTokens: number,
    token: number,
    ids: ArrayLike<number>,
    offset: number,
    weight: number,
  ): void {
    const E = this.numExperts;
    const K = this.topK;
    let parent = -1;
    for (let level = 0; level < this.numLevels; level++) {
      const key = keys[level * numTokens + token]!;
      if (Number.isNaN(key)) break; // NaN: feature missing from here on
      const counts = this.levels[level]!;
      const row = counts.rowFor(key, parent);
      const base = row * E;
      for (let j = 0; j < K; j++) counts.counts[base + ids[offset + j]!]! += weight;
      counts.totals[row]! += weight * K;
      parent = row;
    }
  }

  /** Deepest level with a row for this token's contexts (−1 if none); its row is written to `rowOut[0]`. */
  deepestRow(keys: Float64Array, numTokens: number, token: number, rowOut: Int32Array): number {
    let found = -1;
    for (let level = 0; level < this.numLevels; level++) {
      const key = keys[level * numTokens + token]!;
      if (Number.isNaN(key)) break;
      const row = this.levels[level]!.table.find(key);
      if (row === -1) break;
      rowOut[0] = row;
      found = level;
    }
    return found;
  }

  /** Posterior predictive expert probabilities of the context at (level, row); level −1 = base. */
  probabilities(level: number, row: number, out: Float64Array): Float64Array {
    const E = this.numExperts;
    out.set(this.base);
    if (level < 0) return out;
    let current = row;
    for (let c = level; c >= 0; c--) {
      this.chain[c] = current;
      current = this.levels[c]!.parents[current]!;
    }
    for (let c = 0; c <= level; c++) {
      const counts = this.levels[c]!;
      const r = this.chain[c]!;
      const alpha = this.concentrations[c]! * this.scale;
      const inverse = 1 / (counts.totals[r]! + alpha);
      const offset = r * E;
      for (let e = 0; e < E; e++) out[e] = (counts.counts[offset + e]! + alpha * out[e]!) * inverse;
    }
    return out;
  }

  /** Posterior predictive probability of one expert at (level, row); level −1 = base. */
  expertProbability(level: number, row: number, expert: number): number {
    const E = this.numExperts;
    let current = row;
    for (let c = level; c >= 0; c--) {
      this.chain[c] = current;
      current = this.levels[c]!.parents[current]!;
    }
    let p = this.base[expert]!;
    for (let c = 0; c <= level; c++) {
      const counts = this.levels[c]!;
      const r = this.chain[c]!;
      const alpha = this.concentrations[c]! * this.scale;
      p = (counts.counts[r * E + expert]! + alpha * p) / (counts.totals[r]! + alpha);
    }
    return p;
  }

  /** Probabilities for one token given its level keys. */
  tokenProbabilities(keys: Float64Array, numTokens: number, token: number, out: Float64Array): Float64Array {
    const level = this.deepestRow(keys, numTokens, token, this.chain);
    return this.probabilities(level, level < 0 ? 0 : this.chain[0]!, out);
  }

  /**
   * Empirical Bayes: sets each level's α to maximise the leave-one-token-out log-likelihood of the
   * counted data, level by level from the coarsest (each level's prior mean is its parent's LOO
   * predictive). Because levels nest, the LOO term of every selection of expert e in row r is the
   * same, so the objective costs O(non-zero cells), not O(tokens):
   *   Σ_{r,e} n_re log(n_re − 1 + α q_re) − Σ_r N_r log(N_r − K + α),  q = parent's LOO probability.
   * Counts must be unscaled (scale 1), as right after fitting.
   */
  fitConcentrations(
    bounds: { min: number; max: number } = { min: 1e-3, max: 1e7 },
    /** Two scratch arrays of at least rows × E of the largest level (reused across layers by the fit). */
    scratch?: [Float64Array, Float64Array],
  ): void {
    const E = this.numExperts;
    const K = this.topK;
    // Leave-one-out predictive of the previous level, needed only where a child cell has n ≥ 2 (a
    // cell with n = 1 contributes log(α q) = log α + const, and its parent cell then has n ≥ 1).
    let parentLoo: Float64Array | undefined;
    let largest = 0;
    for (const level of this.levels) largest = Math.max(largest, level.rows * E);
    const buffers =
      scratch && scratch[0].length >= largest && scratch[1].length >= largest
        ? scratch
        : [new Float64Array(largest), new Float64Array(largest)];
    for (let level = 0; level < this.numLevels; level++) {
      const counts = this.levels[level]!;
      const rows = counts.rows;
      const values = counts.counts;
      // Compact once: n ≥ 2 cells with their prior q, the number of n = 1 cells, and the histogram
      // of row totals (rows with the same total share their denominator).
      let singles = 0;
      let cells = 0;
      for (let i = 0; i < rows * E; i++) {
        const n = values[i]!;
        if (n === 1) singles++;
        else if (n > 0) cells++;
      }
      const cellCounts = new Float64Array(cells);
      const cellPrior = new Float64Array(cells);
      const cellIndex = new Int32Array(cells);
      const totalsHistogram = new Map<number, number>();
      let cell = 0;
      for (let r = 0; r < rows; r++) {
        const total = counts.totals[r]!;
        if (total > 0) totalsHistogram.set(total, (totalsHistogram.get(total) ?? 0) + 1);
        const offset = r * E;
        const parentOffset = counts.parents[r]! * E;
        for (let e = 0; e < E; e++) {
          const n = values[offset + e]!;
          if (n > 0 && n !== 1) {
            cellCounts[cell] = n;
            cellPrior[cell] = parentLoo ? parentLoo[parentOffset + e]! : this.base[e]!;
            cellIndex[cell] = offset + e;
            cell++;
          }
        }
      }
      const distinctTotals = Float64Array.from(totalsHistogram.keys());
      const totalRows = Float64Array.from(totalsHistogram.values());
      // d/dα and d²/dα² of Σ n log(n − 1 + α q) + singles·log α − Σ N log(N − K + α).
      const derivatives = (alpha: number, out: Float64Array): void => {
        let first = singles / alpha;
        let second = -singles / (alpha * alpha);
        for (let i = 0; i < cells; i++) {
          const q = cellPrior[i]!;
          const ratio = q / (cellCounts[i]! - 1 + alpha * q);
          first += cellCounts[i]! * ratio;
          second -= cellCounts[i]! * ratio * ratio;
        }
        for (let i = 0; i < distinctTotals.length; i++) {
          const total = distinctTotals[i]!;
          const inverse = 1 / (total - K + alpha);
          first -= totalRows[i]! * total * inverse;
          second += totalRows[i]! * total * inverse * inverse;
        }
        out[0] = first;
        out[1] = second;
      };
      const alpha = maximiseByNewton(derivatives, bounds.min, bounds.max);
      this.concentrations[level] = alpha;
      if (level + 1 === this.numLevels) break;
      // Only cells with n ≥ 2 are ever read (as the next level's prior of its n ≥ 2 cells).
      const loo = buffers[level % 2]!;
      for (let i = 0; i < cells; i++) {
        const r = Math.floor(cellIndex[i]! / E);
        loo[cellIndex[i]!] = (cellCounts[i]! - 1 + alpha * cellPrior[i]!) / (counts.totals[r]! - K + alpha);
      }
      parentLoo = loo;
    }
  }

  /** Multiplies the forgetting scale after `tokens` observed tokens at the given half-life. */
  advance(tokens: number, halfLifeTokens: number | null): void {
    if (halfLifeTokens === null) return;
    this.scale *= 2 ** (tokens / halfLifeTokens);
    if (this.scale > 1e150) this.normaliseScale();
  }

  /** Divides all counts by the scale so that scale = 1 (for storage or before it overflows). */
  normaliseScale(): void {
    if (this.scale === 1) return;
    const inverse = 1 / this.scale;
    for (const level of this.levels) {
      for (let i = 0; i < level.rows * this.numExperts; i++) level.counts[i]! *= inverse;
      for (let r = 0; r < level.rows; r++) level.totals[r]! *= inverse;
    }
    this.scale = 1;
  }
}
