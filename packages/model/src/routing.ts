import type { ModelConfig } from './config.js';

export interface Routing {
  /** [T*K] expert ids in router order (descending score, lower id first on ties). */
  topkIds: Int32Array;
  /** [T*K] combine weights after renormalisation / scaling. */
  topkWeights: Float32Array;
  /** [T*K] router probabilities of the chosen experts before renormalisation (trace `topk_probs`). */
  topkProbs: Float32Array;
}

/** Top-k of each row of a [T, E] score matrix (descending; ties to the lower index). */
export function topKRows(
  scores: Float32Array,
  numTokens: number,
  numExperts: number,
  topK: number,
): Int32Array {
  const ids = new Int32Array(numTokens * topK);
  const taken = new Uint8Array(numExperts);
  for (let t = 0; t < numTokens; t++) {
    taken.fill(0);
    const base = t * numExperts;
    for (let k = 0; k < topK; k++) {
      let best = -1;
      let bestValue = Number.NEGATIVE_INFINITY;
      for (let e = 0; e < numExperts; e++) {
        const value = scores[base + e]!;
        if (!taken[e] && (best < 0 || value > bestValue)) {
          best = e;
          bestValue = value;
        }
      }
      taken[best] = 1;
      ids[t * topK + k] = best;
    }
  }
  return ids;
}

/** Routing from softmax router probabilities [T, E] (mixtral, qwen2_moe, qwen3_moe, olmoe). */
export function routeSoftmaxTopK(config: ModelConfig, probs: Float32Array, numTokens: number): Routing {
  const E = config.numExperts;
  const K = config.topK;
  const topkIds = topKRows(probs, numTokens, E, K);
  const topkProbs = new Float32Array(numTokens * K);
  const topkWeights = new Float32Array(numTokens * K);
  for (let t = 0; t < numTokens; t++) {
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const p = probs[t * E + topkIds[t * K + k]!]!;
      topkProbs[t * K + k] = p;
      sum = Math.fround(sum + p);
    }
    for (let k = 0; k < K; k++) {
      const p = topkProbs[t * K + k]!;
      topkWeights[t * K + k] = config.normTopkProb ? Math.fround(p / sum) : p;
    }
  }
  return { topkIds, topkWeights, topkProbs };
}

/** Routes one MoE layer's router output per the architecture's rule. */
export function route(config: ModelConfig, routerProbs: Float32Array, numTokens: number): Routing {
  return routeSoftmaxTopK(config, routerProbs, numTokens);
}
