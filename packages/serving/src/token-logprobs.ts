import type { TokenLogprob, TokenLogprobs } from './engine.js';

/**
 * Log-probabilities from one row of logits (the model's raw next-token distribution): the log-softmax
 * at `tokenId` and the `count` most likely tokens (ties: the lower id first). Sums run in float64.
 */
export function tokenLogprobs(row: Float32Array, tokenId: number, count: number): TokenLogprobs {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!;
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
  const logNormalizer = max + Math.log(sum);
  const ids: number[] = [];
  const values: number[] = [];
  if (count > 0) {
    for (let i = 0; i < row.length; i++) {
      const value = row[i]!;
      if (ids.length === count && value <= values[count - 1]!) continue;
      let at = Math.min(ids.length, count - 1);
      while (at > 0 && values[at - 1]! < value) at--;
      ids.splice(at, 0, i);
      values.splice(at, 0, value);
      if (ids.length > count) {
        ids.pop();
        values.pop();
      }
    }
  }
  const top: TokenLogprob[] = ids.map((id, i) => ({ tokenId: id, logprob: values[i]! - logNormalizer }));
  return { tokenId, logprob: row[tokenId]! - logNormalizer, top };
}
