import { allocateUninitialized } from './buffer-pool.js';
import { ScatterGatherError } from './errors.js';

/**
 * Folds expert output rows into the layer output as they arrive, with the arithmetic of
 * `combineExpertOutputs` (@switchyard/model): per token, `out = fround(out + fround(w_k · y_k))`
 * over k = 0…K-1, starting from +0. For K ≤ 2 the arrival order cannot change a bit: the first
 * fold gives fround(0 + p) and the second fround(z(p_a) + p_b), where z only maps -0 to +0, and
 * IEEE addition is commutative with x + (-0) = x, so (a, b) and (b, a) agree. For K ≥ 3 a row
 * that arrives before its token's earlier slots is copied aside and folded in router order.
 *
 * The output is never zero-filled: a token's first row is written as `+0 + fround(w · y)` (the
 * same bits as adding it to a zeroed row), so the orchestrator makes one pass over the T × H output
 * instead of two. A per-token arrival count says which row is first and, at `finish`, that every
 * token received exactly K rows.
 */
export class OutputCombiner {
  readonly output: Float32Array;
  /** K ≥ 3: the next router slot of each token to fold. */
  private readonly nextSlot: Uint16Array | undefined;
  /** K ≤ 2: rows folded per token. */
  private readonly arrived: Uint8Array | undefined;
  private readonly early = new Map<number, Float32Array>();
  private folded = 0;

  constructor(
    private readonly numTokens: number,
    private readonly hiddenSize: number,
    private readonly topK: number,
    private readonly topkWeights: Float32Array,
    /** The caller's [T × H] buffer to write into (`MoeStepRequest.output`), checked by the caller. */
    target?: Float32Array,
  ) {
    // The caller owns the output, so it cannot be pooled unless the caller hands a buffer in; else
    // recycled malloc memory is far cheaper than a fresh zero-filled buffer of this size (see
    // allocateUninitialized). Every value is written by the token's first row (see above), so it
    // needs no fill either.
    this.output = target ?? new Float32Array(allocateUninitialized(numTokens * hiddenSize * 4));
    this.nextSlot = topK > 2 ? new Uint16Array(numTokens) : undefined;
    this.arrived = topK > 2 ? undefined : new Uint8Array(numTokens);
  }

  /** Folds the row `values[offset … offset+H)` of routing slot `token × topK + k`. */
  add(slot: number, values: Float32Array, offset: number): void {
    const token = (slot / this.topK) | 0;
    const next = this.nextSlot;
    if (!next) {
      const arrived = this.arrived!;
      this.accumulate(slot, values, offset, arrived[token] === 0);
      arrived[token]!++;
      return;
    }
    if (slot - token * this.topK !== next[token]) {
      this.early.set(slot, values.slice(offset, offset + this.hiddenSize));
      return;
    }
    this.accumulate(slot, values, offset, next[token] === 0);
    next[token]!++;
    const first = token * this.topK;
    while (next[token]! < this.topK) {
      const waiting = this.early.get(first + next[token]!);
      if (!waiting) break;
      this.early.delete(first + next[token]!);
      this.accumulate(first + next[token]!, waiting, 0, false);
      next[token]!++;
    }
  }

  /** The layer output, once every routing slot was folded exactly once. */
  finish(layer: number): Float32Array {
    if (this.folded !== this.numTokens * this.topK || this.early.size > 0) {
      throw new ScatterGatherError({
        code: 'INTERNAL',
        message: `layer ${layer}: ${this.folded} of ${this.numTokens * this.topK} routed rows were combined`,
        layer,
      });
    }
    // Unfilled memory must never leak out: every token got exactly K rows (not one twice and
    // another none).
    const perToken = this.arrived ?? this.nextSlot!;
    for (let token = 0; token < this.numTokens; token++) {
      if (perToken[token] !== this.topK)
        throw new ScatterGatherError({
          code: 'INTERNAL',
          message: `layer ${layer}: token ${token} combined ${perToken[token]} of ${this.topK} routed rows`,
          layer,
        });
    }
    return this.output;
  }

  private accumulate(slot: number, values: Float32Array, offset: number, first: boolean): void {
    const base = ((slot / this.topK) | 0) * this.hiddenSize;
    const weight = Math.fround(this.topkWeights[slot]!);
    if (first) writeFirstRow(this.output, base, values, offset, weight, this.hiddenSize);
    else addRow(this.output, base, values, offset, weight, this.hiddenSize);
    this.folded++;
  }
}

// Two small module-level loops rather than one method with a branch, and no Math.fround on the first
// row (a float64 → float32 → float64 round trip per value): in scratch measurements on the loaded
// benchmark machine (noisy) the fold of 20,480 rows × 768 took 15–22 ms of CPU this way against
// 20–24 ms before.

/** One row's loop: `values[offset … offset+H)` weighted into `out[base … base+H)`. */
type RowLoop = (
  out: Float32Array,
  base: number,
  values: Float32Array,
  offset: number,
  weight: number,
  hiddenSize: number,
) => void;

/**
 * `out[base…+H) = +0 + fround(w · y)` without the `fround`: w and y are float32, so their float64
 * product is exact (24 + 24 significand bits ≤ 53), and the float32 store rounds it once — the same
 * bits as rounding it first. Adding +0 maps -0 to +0, as adding to a zero-filled row would.
 */
const writeFirstRow: RowLoop = (out, base, values, offset, weight, hiddenSize) => {
  for (let h = 0; h < hiddenSize; h++) out[base + h] = weight * values[offset + h]! + 0;
};

/** `out[base…+H) = fround(out + fround(w · y))`; the inner rounding is kept: it changes the sum's bits. */
const addRow: RowLoop = (out, base, values, offset, weight, hiddenSize) => {
  for (let h = 0; h < hiddenSize; h++)
    out[base + h] = out[base + h]! + Math.fround(weight * values[offset + h]!);
};
