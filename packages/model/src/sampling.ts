import type { ResolvedGenerateOptions } from './options.js';

/** Index of the largest value (first one on ties, like torch.argmax). */
export function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/**
 * Picks the next token from one row of logits: greedy when `temperature` is 0 or `greedy` is set,
 * otherwise softmax(logits / temperature) restricted to the `topK` most likely tokens (0 or absent: no
 * limit), then to the smallest set of most likely tokens whose mass (renormalised over the top-k) reaches
 * `topP` (nucleus sampling), drawn with `random`.
 */
export function sampleToken(
  logits: Float32Array,
  options: Pick<ResolvedGenerateOptions, 'temperature' | 'topP' | 'greedy'> & { topK?: number | undefined },
  random: () => number,
): number {
  if (options.greedy || options.temperature === 0) return argmax(logits);
  let max = Number.NEGATIVE_INFINITY;
  for (const value of logits) if (value > max) max = value;
  const weights = new Float64Array(logits.length);
  let total = 0;
  for (let i = 0; i < logits.length; i++) {
    weights[i] = Math.exp((logits[i]! - max) / options.temperature);
    total += weights[i]!;
  }
  const order = Array.from({ length: logits.length }, (_, i) => i).sort(
    (a, b) => weights[b]! - weights[a]! || a - b,
  );
  const topK = options.topK ?? 0;
  const limit = topK > 0 ? Math.min(topK, order.length) : order.length;
  if (limit < order.length) {
    total = 0;
    for (let i = 0; i < limit; i++) total += weights[order[i]!]!;
  }
  let kept = 0;
  let mass = 0;
  while (kept < limit) {
    mass += weights[order[kept]!]! / total;
    kept += 1;
    if (mass >= options.topP) break;
  }
  let target = random() * mass * total;
  for (let i = 0; i < kept; i++) {
    target -= weights[order[i]!]!;
    if (target < 0) return order[i]!;
  }
  return order[kept - 1]!;
}

/** Whether `tokens` ends with `suffix`. */
export function endsWith(tokens: readonly number[], suffix: readonly number[]): boolean {
  if (suffix.length > tokens.length) return false;
  const offset = tokens.length - suffix.length;
  for (let i = 0; i < suffix.length; i++) if (tokens[offset + i] !== suffix[i]) return false;
  return true;
}
