import { parseWithSchema, type RoutingTrace, topKIndices } from '@switchyard/core';
import { inputError } from './errors.js';
import { type EvaluateOptions, evaluateOptionsSchema } from './options.js';
import type { Predictor } from './predictor.js';

/** Scores of a predictor on a held-out trace (metrics of architecture/formats.md). */
export interface EvaluationResult {
  /** Mean over tokens and layers of |predicted top-k ∩ actual top-k| / k. */
  hitAtK: number;
  /** For consecutive full batches of B tokens, Σ_e |predicted − actual| / (B·k), averaged over batches and layers. */
  loadErr: number;
  /** Share of (batch, layer, expert) whose actual count lies in the predicted interval. */
  intervalCoverage: number;
  /** Nominal interval level. */
  intervalLevel: number;
  /** Mean interval width relative to the mean load: Σ (high − low) / Σ mean over scored (batch, layer, expert). */
  relativeIntervalWidth: number;
  /** Mean log-likelihood per selection. */
  logLikelihoodPerSelection: number;
  tokens: number;
  batches: number;
  batchTokens: number;
  perLayer: {
    layer: number;
    hitAtK: number;
    loadErr: number;
    intervalCoverage: number;
    relativeIntervalWidth: number;
  }[];
}

/** A source of per-token expert probabilities for `scoreProbabilities`: fills `out` (length E). */
export type ProbabilitySource = (layer: number, token: number, out: Float64Array) => void;

/**
 * hit@k and load_err exactly as architecture/formats.md defines them, for any probability source; predicted
 * counts are expected counts K·Σ_t p_t(e). Batches are consecutive and full (a partial tail is not scored).
 */
export function scoreProbabilities(
  trace: Pick<RoutingTrace, 'numLayers' | 'numTokens' | 'topK' | 'topkIds'> & {
    meta: { num_experts: number };
  },
  source: ProbabilitySource,
  batchTokens = 1024,
): { hitAtK: number; loadErr: number; perLayer: { hitAtK: number; loadErr: number }[] } {
  const E = trace.meta.num_experts;
  const K = trace.topK;
  const T = trace.numTokens;
  const p = new Float64Array(E);
  const top = new Int32Array(K);
  const predicted = new Float64Array(E);
  const actual = new Float64Array(E);
  const perLayer: { hitAtK: number; loadErr: number }[] = [];
  for (let layer = 0; layer < trace.numLayers; layer++) {
    let hits = 0;
    let loadErr = 0;
    let batches = 0;
    predicted.fill(0);
    actual.fill(0);
    for (let t = 0; t < T; t++) {
      source(layer, t, p);
      topKIndices(p, K, top);
      const base = (layer * T + t) * K;
      for (let j = 0; j < K; j++) {
        const expert = trace.topkIds[base + j]!;
        actual[expert]! += 1;
        for (let i = 0; i < K; i++) if (top[i] === expert) hits++;
      }
      for (let e = 0; e < E; e++) predicted[e]! += K * p[e]!;
      if ((t + 1) % batchTokens === 0) {
        let sum = 0;
        for (let e = 0; e < E; e++) sum += Math.abs(predicted[e]! - actual[e]!);
        loadErr += sum / (batchTokens * K);
        batches++;
        predicted.fill(0);
        actual.fill(0);
      }
    }
    perLayer.push({ hitAtK: hits / (T * K), loadErr: batches > 0 ? loadErr / batches : Number.NaN });
  }
  const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
  return {
    hitAtK: mean(perLayer.map((layer) => layer.hitAtK)),
    loadErr: mean(perLayer.map((layer) => layer.loadErr)),
    perLayer,
  };
}

/**
 * Scores a predictor on a held-out trace: hit@k, load_err (B tokens per batch) and the coverage of its
 * load intervals. With `usePreviousLayer` (default) layer l sees layer l − 1's actual routing, as at
 * dispatch time.
 */
export function evaluatePredictor(
  predictor: Predictor,
  trace: RoutingTrace,
  options: EvaluateOptions = {},
): EvaluationResult {
  const resolved = parseWithSchema(evaluateOptionsSchema, options, 'evaluatePredictor options');
  const B = resolved.batchTokens;
  const E = predictor.numExperts;
  const K = predictor.topK;
  const L = predictor.numLayers;
  const T = trace.numTokens;
  if (T === 0) throw inputError('trace is empty (0 tokens)', 'trace');
  if (trace.meta.num_experts !== E || trace.topK !== K || trace.numLayers !== L)
    throw inputError(
      `trace has ${trace.numLayers} layers × ${trace.meta.num_experts} experts top-${trace.topK}; the predictor was fitted for ${L} × ${E} top-${K}`,
      'trace',
    );
  if (T < B) throw inputError(`trace has ${T} tokens, fewer than one batch of ${B}`, 'trace');
  const batch = {
    tokens: trace.tokens,
    positions: Int32Array.from({ length: T }, (_, t) => t % trace.meta.chunk),
    topkIds: resolved.usePreviousLayer ? trace.topkIds : undefined,
    attentionIds: trace.attentionIds,
  };
  const probabilities: Float64Array[] = [];
  for (let layer = 0; layer < L; layer++) probabilities.push(predictor.tokenProbabilities(batch, layer));
  const scores = scoreProbabilities(
    trace,
    (layer, t, out) => out.set(probabilities[layer]!.subarray(t * E, (t + 1) * E)),
    B,
  );
  let logLikelihood = 0;
  for (let layer = 0; layer < L; layer++) {
    for (let t = 0; t < T; t++)
      for (let j = 0; j < K; j++)
        logLikelihood += Math.log(probabilities[layer]![t * E + trace.topkIds[(layer * T + t) * K + j]!]!);
  }
  // Interval coverage per batch, through the same computation as predictLoad.
  const inside = new Float64Array(L);
  const width = new Float64Array(L);
  const meanLoad = new Float64Array(L);
  const batches = Math.floor(T / B);
  const keys = Array.from({ length: L }, (_, layer) => predictor.levelKeys(batch, layer));
  const mean = new Float64Array(L * E);
  const variance = new Float64Array(L * E);
  const actual = new Float64Array(L * E);
  for (let batchIndex = 0; batchIndex < batches; batchIndex++) {
    mean.fill(0);
    variance.fill(0);
    actual.fill(0);
    const from = batchIndex * B;
    for (let layer = 0; layer < L; layer++) {
      predictor.accumulateLoad(
        layer,
        keys[layer]!,
        T,
        from,
        from + B,
        mean.subarray(layer * E, (layer + 1) * E),
        variance.subarray(layer * E, (layer + 1) * E),
      );
      for (let t = from; t < from + B; t++)
        for (let j = 0; j < K; j++) actual[layer * E + trace.topkIds[(layer * T + t) * K + j]!]! += 1;
    }
    const prediction = predictor.intervals(mean, variance, B);
    for (let i = 0; i < L * E; i++) {
      const layer = Math.floor(i / E);
      if (actual[i]! >= prediction.low[i]! && actual[i]! <= prediction.high[i]!) inside[layer]! += 1;
      width[layer]! += prediction.high[i]! - prediction.low[i]!;
      meanLoad[layer]! += prediction.mean[i]!;
    }
  }
  const perLayer = scores.perLayer.map((layer, index) => ({
    layer: index,
    hitAtK: layer.hitAtK,
    loadErr: layer.loadErr,
    intervalCoverage: inside[index]! / (batches * E),
    relativeIntervalWidth: width[index]! / meanLoad[index]!,
  }));
  const sum = (values: Float64Array): number => values.reduce((a, b) => a + b, 0);
  return {
    hitAtK: scores.hitAtK,
    loadErr: scores.loadErr,
    intervalCoverage: perLayer.reduce((a, layer) => a + layer.intervalCoverage, 0) / L,
    intervalLevel: predictor.state.intervalLevel,
    relativeIntervalWidth: sum(width) / sum(meanLoad),
    logLikelihoodPerSelection: logLikelihood / (T * K * L),
    tokens: T,
    batches,
    batchTokens: B,
    perLayer,
  };
}
