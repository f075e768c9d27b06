/** A seeded uniform [0, 1) generator (mulberry32): every request's sampling is reproducible from its seed. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SamplingParameters {
  /** 0 = greedy (argmax). */
  temperature: number;
  /** Nucleus sampling: keep the smallest set of tokens whose probability sums to at least topP. */
  topP: number;
}

/** Index of the largest logit; ties go to the lowest index so greedy decoding is deterministic. */
export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

/**
 * Draws the next token id from `logits` with temperature and top-p (nucleus) filtering, the
 * semantics of OpenAI's `temperature` and `top_p`: softmax(logits / temperature), then keep tokens
 * in descending probability until their mass reaches top_p, renormalise, sample.
 */
export function sampleToken(
  logits: Float32Array,
  parameters: SamplingParameters,
  random: () => number,
): number {
  if (parameters.temperature <= 0 || logits.length === 1) return argmax(logits);
  const size = logits.length;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < size; i++) if (logits[i]! > max) max = logits[i]!;
  const probabilities = new Float64Array(size);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const p = Math.exp((logits[i]! - max) / parameters.temperature);
    probabilities[i] = p;
    sum += p;
  }
  const order = Array.from({ length: size }, (_, i) => i);
  let kept = size;
  if (parameters.topP < 1) {
    order.sort((a, b) => probabilities[b]! - probabilities[a]! || a - b);
    let mass = 0;
    for (let rank = 0; rank < size; rank++) {
      mass += probabilities[order[rank]!]! / sum;
      if (mass >= parameters.topP) {
        kept = rank + 1;
        break;
      }
    }
  }
  let keptSum = 0;
  for (let rank = 0; rank < kept; rank++) keptSum += probabilities[order[rank]!]!;
  let threshold = random() * keptSum;
  for (let rank = 0; rank < kept; rank++) {
    threshold -= probabilities[order[rank]!]!;
    if (threshold < 0) return order[rank]!;
  }
  return order[kept - 1]!;
}
