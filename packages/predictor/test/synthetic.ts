import { createRandom, type RoutingTrace } from '@switchyard/core';

/**
 * A synthetic trace whose routing depends on the token and the previous token (plus noise), so a
 * context model has something to learn. `permute` relabels experts (a routing shift).
 */
export function syntheticTrace(options: {
  seed: number;
  tokens: number;
  numExperts: number;
  topK: number;
  numLayers: number;
  vocabulary?: number;
  chunk?: number;
  permute?: boolean;
}): RoutingTrace {
  const random = createRandom(options.seed);
  const { numExperts: E, topK: K, numLayers: L } = options;
  const T = options.tokens;
  const vocabulary = options.vocabulary ?? 32;
  const chunk = options.chunk ?? 64;
  const tokens = new Int32Array(T);
  for (let t = 0; t < T; t++) tokens[t] = Math.floor(random() * random() * vocabulary);
  const topkIds = new Int16Array(L * T * K);
  const topkProbs = new Float32Array(L * T * K);
  const structure = createRandom(12345);
  const preference = Float64Array.from({ length: L * vocabulary * vocabulary }, () => structure());
  for (let layer = 0; layer < L; layer++) {
    for (let t = 0; t < T; t++) {
      const previous = t % chunk === 0 ? 0 : tokens[t - 1]!;
      const chosen = new Set<number>();
      const anchor = Math.floor(preference[(layer * vocabulary + tokens[t]!) * vocabulary + previous]! * E);
      for (let j = 0; j < K; j++) {
        let expert = random() < 0.75 ? (anchor + j) % E : Math.floor(random() * E);
        while (chosen.has(expert)) expert = (expert + 1) % E;
        chosen.add(expert);
        const id = options.permute ? (expert * 5 + 3) % E : expert;
        topkIds[(layer * T + t) * K + j] = id;
        topkProbs[(layer * T + t) * K + j] = 1 / (j + 2);
      }
    }
  }
  return {
    meta: {
      model: 'synthetic',
      tokens: T,
      chunk,
      moe_layers: Array.from({ length: L }, (_, layer) => layer),
      num_experts: E,
      top_k: K,
    },
    tokens,
    topkIds,
    topkProbs,
    numLayers: L,
    numTokens: T,
    topK: K,
  };
}

/** Tokens [from, to) of a trace as its own trace. */
export function sliceTrace(trace: RoutingTrace, from: number, to: number): RoutingTrace {
  const T = trace.numTokens;
  const K = trace.topK;
  const n = to - from;
  const topkIds = new Int16Array(trace.numLayers * n * K);
  const topkProbs = new Float32Array(trace.numLayers * n * K);
  for (let layer = 0; layer < trace.numLayers; layer++) {
    topkIds.set(trace.topkIds.subarray((layer * T + from) * K, (layer * T + to) * K), layer * n * K);
    topkProbs.set(trace.topkProbs.subarray((layer * T + from) * K, (layer * T + to) * K), layer * n * K);
  }
  return {
    ...trace,
    meta: { ...trace.meta, tokens: n },
    tokens: trace.tokens.slice(from, to),
    topkIds,
    topkProbs,
    numTokens: n,
  };
}
