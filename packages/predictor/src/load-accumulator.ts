import type { LayerModel } from './layer-model.js';

/**
 * The load of one batch at one MoE layer under the hierarchical Dirichlet-multinomial: the expected
 * selections per expert and their predictive variance, exact for the model (given the α's).
 *
 * Every token is a leaf under its deepest known context row. A row's posterior predictive is
 * p̂_r = (n_r + α p̂_parent) / A_r with A_r = N_r + α, and its probability vector is p_r = p̂_r + ε_r
 * with Var ε_r(e) = p̂_r(e)(1 − p̂_r(e)) / (A_r + 1) given the parent (Dirichlet posterior); ε of
 * different rows are uncorrelated. A token reaching row r with weight 1 reaches its parent with weight
 * f_r = α / A_r, so Σ_t p_t = const + Σ_rows W̃_r ε_r, W̃_r = weight reaching r. With π = K·p (an expert
 * is picked at most once per token), the load X_e = Σ_t x_te has
 *   E X = K Σ_t p̂_t,
 *   Var X = Σ_t π̂_t(1 − π̂_t) + K² Σ_rows (W̃_r² − S̃_r) p̂_r(1 − p̂_r) / (A_r + 1),
 * where S̃_r = Σ_t w_t,r² (the token's own variance is already in the Bernoulli term). Contexts not in
 * the table (new n-grams, pruned rows) are rows with N = 0: the weight passes through unchanged, and
 * w tokens sharing such a context add (w² − w)·p̂(1 − p̂)/(α + 1) at their deepest known ancestor
 * (`addUnseenPair`). This is what makes batches of unfamiliar text — whose repeated new contexts are
 * correlated — get wider intervals than familiar text.
 *
 * Usage: `clear()`, then `addToken` / `addUnseenPair` per token, then `finish(mean, variance)`;
 * `probability(level, row, expert)` reads p̂ of a touched row until the next `clear()`.
 */
export class LoadAccumulator {
  private readonly slotOfRow: Int32Array[] = [];
  private readonly rowOfSlot: Int32Array[] = [];
  private readonly slots: Int32Array;
  private readonly own: Float64Array[] = [];
  private readonly weight: Float64Array[] = [];
  private readonly weightSquares: Float64Array[] = [];
  private readonly unseen: Float64Array[] = [];
  private readonly probabilities: Float64Array[] = [];
  /** Per slot, filled bottom-up and read top-down: 1/(N + α) and the parent's slot. */
  private readonly inverse: Float64Array[] = [];
  private readonly parentSlot: Int32Array[] = [];
  private baseTokens = 0;

  constructor(readonly model: LayerModel) {
    const levels = model.numLevels;
    this.slots = new Int32Array(levels);
    for (let c = 0; c < levels; c++) {
      this.slotOfRow.push(new Int32Array(Math.max(16, model.levels[c]!.rows)).fill(-1));
      this.rowOfSlot.push(new Int32Array(16));
      this.own.push(new Float64Array(16));
      this.weight.push(new Float64Array(16));
      this.weightSquares.push(new Float64Array(16));
      this.unseen.push(new Float64Array(16));
      this.probabilities.push(new Float64Array(16 * model.numExperts));
      this.inverse.push(new Float64Array(16));
      this.parentSlot.push(new Int32Array(16));
    }
  }

  /** Forgets the previous batch (only the rows it touched). */
  clear(): void {
    for (let c = 0; c < this.model.numLevels; c++) {
      const slotOfRow = this.slotOfRow[c]!;
      const rowOfSlot = this.rowOfSlot[c]!;
      for (let s = 0; s < this.slots[c]!; s++) slotOfRow[rowOfSlot[s]!] = -1;
      this.slots[c] = 0;
      // Rows may have been added online since the last batch.
      const rows = this.model.levels[c]!.rows;
      if (slotOfRow.length < rows) {
        const grown = new Int32Array(rows * 2).fill(-1);
        this.slotOfRow[c] = grown;
      }
    }
    this.baseTokens = 0;
  }

  private slotFor(level: number, row: number): number {
    const slotOfRow = this.slotOfRow[level]!;
    const existing = slotOfRow[row]!;
    if (existing !== -1) return existing;
    const slot = this.slots[level]!++;
    if (slot === this.rowOfSlot[level]!.length) this.grow(level);
    slotOfRow[row] = slot;
    this.rowOfSlot[level]![slot] = row;
    this.own[level]![slot] = 0;
    this.weight[level]![slot] = 0;
    this.weightSquares[level]![slot] = 0;
    this.unseen[level]![slot] = 0;
    return slot;
  }

  /** Makes room for `count` more slots at `level` (so per-slot arrays stay put while filling). */
  private reserve(level: number, count: number): void {
    while (this.slots[level]! + count > this.rowOfSlot[level]!.length) this.grow(level);
  }

  private grow(level: number): void {
    const capacity = this.rowOfSlot[level]!.length * 2;
    const widen = <T extends Float64Array | Int32Array>(array: T, size: number): T => {
      const out = new (array.constructor as { new (n: number): T })(size);
      out.set(array);
      return out;
    };
    this.rowOfSlot[level] = widen(this.rowOfSlot[level]!, capacity);
    this.own[level] = widen(this.own[level]!, capacity);
    this.weight[level] = widen(this.weight[level]!, capacity);
    this.weightSquares[level] = widen(this.weightSquares[level]!, capacity);
    this.unseen[level] = widen(this.unseen[level]!, capacity);
    this.probabilities[level] = widen(this.probabilities[level]!, capacity * this.model.numExperts);
    this.inverse[level] = widen(this.inverse[level]!, capacity);
    this.parentSlot[level] = widen(this.parentSlot[level]!, capacity);
  }

  /** A token whose deepest known context is `row` at `level` (−1: none; it gets the base measure). */
  addToken(level: number, row: number): void {
    if (level < 0) {
      this.baseTokens++;
      return;
    }
    // The slot first: finding it may reallocate the per-slot arrays.
    const slot = this.slotFor(level, row);
    this.own[level]![slot]! += 1;
  }

  /**
   * A token joins `sharing` earlier tokens of this batch in a context (at level `unseenLevel`) that the
   * table does not hold, below the known row (level, row): adds its 2·sharing/(α + 1) to (w² − w)/(α + 1).
   */
  addUnseenPair(level: number, row: number, unseenLevel: number, sharing: number): void {
    if (level < 0) return;
    const slot = this.slotFor(level, row);
    this.unseen[level]![slot]! += (2 * sharing) / (this.model.concentrations[unseenLevel]! + 1);
  }

  /** Adds K·Σ p̂ to `mean` and the predictive variance to `variance` (both length E). */
  finish(mean: Float64Array, variance: Float64Array): void {
    const model = this.model;
    const E = model.numExperts;
    const K = model.topK;
    const scale = model.scale;
    let deepest = model.numLevels - 1;
    while (deepest >= 0 && this.slots[deepest] === 0) deepest--;
    // Bottom-up: weight and squared weight reaching every row (creating parents' slots as needed).
    for (let c = deepest; c >= 0; c--) {
      const counts = model.levels[c]!;
      const alpha = model.concentrations[c]! * scale;
      const own = this.own[c]!;
      const weight = this.weight[c]!;
      const squares = this.weightSquares[c]!;
      const rowOfSlot = this.rowOfSlot[c]!;
      const inverses = this.inverse[c]!;
      const parentSlots = this.parentSlot[c]!;
      const slots = this.slots[c]!;
      const totals = counts.totals;
      if (c === 0) {
        for (let s = 0; s < slots; s++) {
          inverses[s] = 1 / (totals[rowOfSlot[s]!]! + alpha);
          weight[s]! += own[s]!;
          squares[s]! += own[s]!;
        }
        continue;
      }
      // Parents' slots are created here; reserve first so their arrays are not reallocated mid-loop.
      this.reserve(c - 1, slots);
      const parents = counts.parents;
      const parentSlotOfRow = this.slotOfRow[c - 1]!;
      const parentRowOfSlot = this.rowOfSlot[c - 1]!;
      const parentOwn = this.own[c - 1]!;
      const parentWeight = this.weight[c - 1]!;
      const parentSquares = this.weightSquares[c - 1]!;
      const parentUnseen = this.unseen[c - 1]!;
      for (let s = 0; s < slots; s++) {
        const row = rowOfSlot[s]!;
        const inverse = 1 / (totals[row]! + alpha);
        inverses[s] = inverse;
        const w = weight[s]! + own[s]!;
        const w2 = squares[s]! + own[s]!;
        weight[s] = w;
        squares[s] = w2;
        const pass = alpha * inverse;
        const parent = parents[row]!;
        let parentSlot = parentSlotOfRow[parent]!;
        if (parentSlot === -1) {
          parentSlot = this.slots[c - 1]!++;
          parentSlotOfRow[parent] = parentSlot;
          parentRowOfSlot[parentSlot] = parent;
          parentOwn[parentSlot] = 0;
          parentWeight[parentSlot] = 0;
          parentSquares[parentSlot] = 0;
          parentUnseen[parentSlot] = 0;
        }
        parentSlots[s] = parentSlot;
        parentWeight[parentSlot]! += w * pass;
        parentSquares[parentSlot]! += w2 * pass * pass;
      }
    }
    // Top-down: posterior predictive of every touched row, then the mean and variance terms.
    const base = model.base;
    for (let c = 0; c <= deepest; c++) {
      const counts = model.levels[c]!.counts;
      const alpha = model.concentrations[c]! * scale;
      const own = this.own[c]!;
      const weight = this.weight[c]!;
      const squares = this.weightSquares[c]!;
      const unseen = this.unseen[c]!;
      const rowOfSlot = this.rowOfSlot[c]!;
      const inverses = this.inverse[c]!;
      const parentSlots = this.parentSlot[c]!;
      const probabilities = this.probabilities[c]!;
      const parentProbabilities = c > 0 ? this.probabilities[c - 1]! : base;
      for (let s = 0; s < this.slots[c]!; s++) {
        const inverse = inverses[s]!;
        const parentOffset = c > 0 ? parentSlots[s]! * E : 0;
        const offset = rowOfSlot[s]! * E;
        const out = s * E;
        const tokens = own[s]!;
        const w = weight[s]!;
        // Var ε = p(1 − p)/(A_eff + 1), A_eff = (N + α·scale)/scale in unscaled counts.
        const shared = K * K * ((w * w - squares[s]!) * (scale / (1 / inverse + scale)) + unseen[s]!);
        const scaledAlpha = alpha * inverse;
        if (shared === 0 && scaledAlpha === 1) {
          // A context with no counts (e.g. seen only in the held-out cross-fit fold): the parent's p̂.
          for (let e = 0; e < E; e++) {
            const p = parentProbabilities[parentOffset + e]!;
            probabilities[out + e] = p;
            const inclusion = K * p;
            mean[e]! += tokens * inclusion;
            variance[e]! += tokens * inclusion * (1 - inclusion);
          }
          continue;
        }
        if (shared === 0) {
          // Most rows: a single token's leaf (no shared parameter uncertainty).
          for (let e = 0; e < E; e++) {
            const p = counts[offset + e]! * inverse + scaledAlpha * parentProbabilities[parentOffset + e]!;
            probabilities[out + e] = p;
            const inclusion = K * p;
            mean[e]! += tokens * inclusion;
            variance[e]! += tokens * inclusion * (1 - inclusion);
          }
          continue;
        }
        for (let e = 0; e < E; e++) {
          const p = counts[offset + e]! * inverse + scaledAlpha * parentProbabilities[parentOffset + e]!;
          probabilities[out + e] = p;
          const inclusion = K * p;
          mean[e]! += tokens * inclusion;
          variance[e]! += tokens * inclusion * (1 - inclusion) + shared * p * (1 - p);
        }
      }
    }
    if (this.baseTokens > 0) {
      for (let e = 0; e < E; e++) {
        const inclusion = K * base[e]!;
        mean[e]! += this.baseTokens * inclusion;
        variance[e]! += this.baseTokens * inclusion * (1 - inclusion);
      }
    }
  }

  /** p̂ of expert at a row touched by the last batch (level −1: the base measure). */
  probability(level: number, row: number, expert: number): number {
    if (level < 0) return this.model.base[expert]!;
    return this.probabilities[level]![this.slotOfRow[level]![row]! * this.model.numExperts + expert]!;
  }
}

/**
 * Counts how many tokens of a batch share each context the table does not hold (open addressing on
 * typed arrays, reset per batch by a generation stamp instead of clearing).
 */
export class UnseenContexts {
  private keys = new Float64Array(1024);
  private counts = new Int32Array(1024);
  private stamps = new Int32Array(1024);
  private generation = 1;

  /** Starts a batch that will add at most `expected` contexts. */
  begin(expected: number): void {
    this.generation++;
    if (expected * 2 > this.keys.length) {
      let capacity = this.keys.length;
      while (capacity < expected * 2) capacity *= 2;
      this.keys = new Float64Array(capacity);
      this.counts = new Int32Array(capacity);
      this.stamps = new Int32Array(capacity);
      this.generation = 1;
    }
  }

  /** Adds one token to `key`'s context; returns how many tokens were there before it. */
  add(key: number): number {
    const mask = this.keys.length - 1;
    const high = Math.floor(key / 1_048_576);
    let slot = (high ^ Math.imul(key - high * 1_048_576, 0x9e3779b1)) & mask;
    for (;;) {
      if (this.stamps[slot] !== this.generation) {
        this.stamps[slot] = this.generation;
        this.keys[slot] = key;
        this.counts[slot] = 1;
        return 0;
      }
      if (this.keys[slot] === key) return this.counts[slot]!++;
      slot = (slot + 1) & mask;
    }
  }
}
