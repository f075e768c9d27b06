import { topKRows } from '@switchyard/core';
import type { ModelConfig } from './config.js';

export interface Routing {
  /** [T*K] expert ids in router order (descending score, lower id first on ties). */
  topkIds: Int32Array;
  /** [T*K] combine weights after renormalisation / scaling. */
  topkWeights: Float32Array;
  /** [T*K] router probabilities of the chosen experts before renormalisation (trace `topk_probs`). */
  topkProbs: Float32Array;
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

/** gpt_oss: top-k of the raw logits, softmax over the k chosen. `topkProbs` are the full-softmax probabilities. */
export function routeTopKSoftmax(
  config: ModelConfig,
  logits: Float32Array,
  probs: Float32Array,
  numTokens: number,
): Routing {
  const E = config.numExperts;
  const K = config.topK;
  const topkIds = topKRows(logits, numTokens, E, K);
  const topkProbs = new Float32Array(numTokens * K);
  const topkWeights = new Float32Array(numTokens * K);
  for (let t = 0; t < numTokens; t++) {
    const first = logits[t * E + topkIds[t * K]!]!;
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const id = topkIds[t * K + k]!;
      topkProbs[t * K + k] = probs[t * E + id]!;
      sum += Math.exp(logits[t * E + id]! - first);
    }
    for (let k = 0; k < K; k++)
      topkWeights[t * K + k] = Math.exp(logits[t * E + topkIds[t * K + k]!]! - first) / sum;
  }
  return { topkIds, topkWeights, topkProbs };
}

/**
 * deepseek_v3: choice = sigmoid score + correction bias; keep the `topkGroups` groups with the largest
 * sum of their top-2 choices; top-k experts by choice inside them (others count as 0); weights are the
 * plain sigmoid scores, renormalised (sum + 1e-20) when norm_topk_prob, times routed_scaling_factor.
 */
export function routeSigmoidGroupTopK(
  config: ModelConfig,
  scores: Float32Array,
  numTokens: number,
  correctionBias: Float32Array | undefined,
): Routing {
  const E = config.numExperts;
  const K = config.topK;
  const groups = config.numGroups;
  const groupSize = E / groups;
  const topkIds = new Int32Array(numTokens * K);
  const topkProbs = new Float32Array(numTokens * K);
  const topkWeights = new Float32Array(numTokens * K);
  const choice = new Float32Array(E);
  const groupScores = new Float32Array(groups);
  for (let t = 0; t < numTokens; t++) {
    for (let e = 0; e < E; e++) choice[e] = scores[t * E + e]! + (correctionBias?.[e] ?? 0);
    for (let group = 0; group < groups; group++) {
      const members = choice.subarray(group * groupSize, (group + 1) * groupSize);
      const best = topKRows(members, 1, groupSize, Math.min(2, groupSize));
      let sum = 0;
      for (const index of best) sum = Math.fround(sum + members[index]!);
      groupScores[group] = sum;
    }
    const keptGroups = new Set(topKRows(groupScores, 1, groups, config.topkGroups));
    for (let e = 0; e < E; e++) if (!keptGroups.has(Math.floor(e / groupSize))) choice[e] = 0;
    const ids = topKRows(choice, 1, E, K);
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const p = scores[t * E + ids[k]!]!;
      topkIds[t * K + k] = ids[k]!;
      topkProbs[t * K + k] = p;
      sum = Math.fround(sum + p);
    }
    for (let k = 0; k < K; k++) {
      let weight = topkProbs[t * K + k]!;
      if (config.normTopkProb) weight = Math.fround(weight / Math.fround(sum + 1e-20));
      topkWeights[t * K + k] = Math.fround(weight * config.routedScalingFactor);
    }
  }
  return { topkIds, topkWeights, topkProbs };
}

/**
 * Routes one MoE layer per the architecture's rule from the router graph's outputs: raw logits and
 * scores (softmax, or sigmoid for deepseek_v3) [T, E].
 */
export function route(
  config: ModelConfig,
  logits: Float32Array,
  scores: Float32Array,
  numTokens: number,
  correctionBias?: Float32Array,
): Routing {
  switch (config.routing) {
    case 'topk-softmax':
      return routeTopKSoftmax(config, logits, scores, numTokens);
    case 'sigmoid-group-topk':
      return routeSigmoidGroupTopK(config, scores, numTokens, correctionBias);
    default:
      return routeSoftmaxTopK(config, scores, numTokens);
  }
}

/** The router scores an architecture derives from logits (softmax, or sigmoid for deepseek_v3), in JS for references. */
export function routerScores(config: ModelConfig, logits: Float32Array, numTokens: number): Float32Array {
  const E = config.numExperts;
  const out = new Float32Array(logits.length);
  for (let t = 0; t < numTokens; t++) {
    if (config.routing === 'sigmoid-group-topk') {
      for (let e = 0; e < E; e++) out[t * E + e] = 1 / (1 + Math.exp(-logits[t * E + e]!));
      continue;
    }
    let max = Number.NEGATIVE_INFINITY;
    for (let e = 0; e < E; e++) max = Math.max(max, logits[t * E + e]!);
    let sum = 0;
    for (let e = 0; e < E; e++) sum += Math.exp(logits[t * E + e]! - max);
    for (let e = 0; e < E; e++) out[t * E + e] = Math.exp(logits[t * E + e]! - max) / sum;
  }
  return out;
}
