/**
 * Indices of the `k` largest of `values`, largest first; equal values keep their order (the lower
 * index first). Written to `out[0, k)`; slots beyond `values.length` stay −1. Shared by routing
 * (@switchyard/model), hit@k scoring (@switchyard/predictor) and anything that ranks experts. NaN is
 * not ordered: pass numbers.
 */
export function topKIndices(
  values: ArrayLike<number>,
  k: number,
  out: Int32Array = new Int32Array(k),
): Int32Array {
  return topKOfRow(values, 0, values.length, k, out, 0);
}

/** Top-k (as `topKIndices`) of each row of a row-major [numRows, rowLength] matrix, as [numRows, k]. */
export function topKRows(
  values: ArrayLike<number>,
  numRows: number,
  rowLength: number,
  k: number,
): Int32Array {
  const out = new Int32Array(numRows * k);
  for (let row = 0; row < numRows; row++) topKOfRow(values, row * rowLength, rowLength, k, out, row * k);
  return out;
}

/**
 * Insertion into a sorted list of k slots: one comparison for most entries (those below the current
 * k-th), so a row costs about `length` comparisons when k is small.
 */
function topKOfRow(
  values: ArrayLike<number>,
  from: number,
  length: number,
  k: number,
  out: Int32Array,
  outOffset: number,
): Int32Array {
  for (let j = 0; j < k; j++) out[outOffset + j] = -1;
  if (k === 0) return out;
  const last = outOffset + k - 1;
  for (let index = 0; index < length; index++) {
    const value = values[from + index]!;
    let slot = last;
    if (out[slot] !== -1 && values[from + out[slot]!]! >= value) continue;
    while (slot > outOffset && (out[slot - 1] === -1 || values[from + out[slot - 1]!]! < value)) {
      out[slot] = out[slot - 1]!;
      slot--;
    }
    out[slot] = index;
  }
  return out;
}
