import type { RoutingTrace } from '@switchyard/core';
import { inputError } from './errors.js';
import { computeLevelKeys, type KeyContext, type LevelKind, type TokenBatch } from './features.js';
import type { ResolvedFitOptions } from './options.js';
import { paperCellKeys } from './paper-strategy.js';

/** Calibration data concatenated from one or more traces, as a batch with explicit positions. */
export interface ObservationSet extends Required<Pick<TokenBatch, 'tokens' | 'positions'>> {
  topkIds: Int16Array;
  attentionIds?: Int32Array;
}

/** What fitting a predictor works on: the calibration data, its ladders, keys and base measures. */
export interface FitContext {
  options: ResolvedFitOptions;
  data: ObservationSet;
  numTokens: number;
  numExperts: number;
  topK: number;
  chunk: number;
  /** The calibration traces' model name and MoE layers (from the first trace). */
  modelName: string;
  moeLayers: number[];
  hasAttention: boolean;
  ladders: LevelKind[][];
  keys: Float64Array[];
  /** Paper strategy: [T] key of the (f1, f2, f3) cell of each token and f3 per cell row. */
  cellKeys?: Float64Array[];
  bases: Float64Array[];
  /** Default strategy: per layer, every token's finest level and its row there. */
  finest?: { level: Int8Array; row: Int32Array }[];
}

/**
 * Concatenates the calibration traces, picks every layer's back-off ladder and computes every
 * token's key at every level; checks the prior loads and fixed concentrations against the ladders.
 */
export function createFitContext(traces: RoutingTrace[], resolved: ResolvedFitOptions): FitContext {
  const { data, first } = concatenateTraces(traces);
  const T = data.tokens.length;
  const L = first.numLayers;
  const E = first.meta.num_experts;
  const K = first.topK;
  const chunk = first.meta.chunk;
  const hasAttention = data.attentionIds !== undefined && resolved.useAttention;
  if (resolved.priorExpertLoad && resolved.priorExpertLoad.length !== L)
    throw inputError(
      `priorExpertLoad has ${resolved.priorExpertLoad.length} layers, the trace has ${L}`,
      'priorExpertLoad',
    );
  const ladders = laddersFor(resolved, L, hasAttention);
  const keyContext: KeyContext = { numLayers: L, topK: K, chunk, contextTokens: resolved.contextTokens };
  // Levels whose contexts do not depend on the layer hash the same on every layer: layer 0 hashes
  // them once and the other layers copy those keys and resume from the saved hash lanes.
  let keysOfLayerZero: Float64Array | undefined;
  const prefix = layerFreePrefix(ladders[0]!);
  const lanes = { laneA: new Int32Array(T), laneB: new Int32Array(T), level: prefix - 1 };
  const keys = ladders.map((ladder, layer) => {
    const out = new Float64Array(ladder.length * T);
    const shared = layer === 0 ? 0 : Math.min(prefix, layerFreePrefix(ladder));
    if (shared === prefix && prefix > 0) {
      // The default strategy counts those levels once (by row id), so only the paper needs the copy.
      if (resolved.strategy !== 'default') out.set(keysOfLayerZero!.subarray(0, prefix * T));
      computeLevelKeys(data, layer, ladder, keyContext, out, { resume: lanes });
    } else computeLevelKeys(data, layer, ladder, keyContext, out, prefix > 0 ? { save: lanes } : {});
    if (layer === 0) keysOfLayerZero = out;
    return out;
  });
  const context: FitContext = {
    options: resolved,
    data,
    numTokens: T,
    numExperts: E,
    topK: K,
    chunk,
    modelName: first.meta.model,
    moeLayers: [...first.meta.moe_layers],
    hasAttention,
    ladders,
    keys,
    cellKeys:
      resolved.strategy === 'paper' ? ladders.map((_, layer) => paperCellKeys(data, layer, T)) : undefined,
    bases: ladders.map((_, layer) =>
      baseDistribution(E, resolved.priorExpertLoad?.[layer], `priorExpertLoad[${layer}]`),
    ),
  };
  if (resolved.concentrations) {
    for (let layer = 0; layer < L; layer++) {
      const given = resolved.concentrations[layer];
      if (!given || given.length !== ladders[layer]!.length)
        throw inputError(
          `concentrations[${layer}] needs ${ladders[layer]!.length} values (${ladders[layer]!.join(', ')})`,
          'concentrations',
        );
    }
  }
  return context;
}

function concatenateTraces(traces: RoutingTrace[]): { data: ObservationSet; first: RoutingTrace } {
  if (traces.length === 0) throw inputError('no calibration traces were given', 'traces');
  const first = traces[0]!;
  const L = first.numLayers;
  const K = first.topK;
  const E = first.meta.num_experts;
  let total = 0;
  for (const [index, trace] of traces.entries()) {
    if (trace.numTokens === 0) throw inputError('trace is empty (0 tokens)', `traces[${index}]`);
    if (trace.numLayers !== L || trace.topK !== K || trace.meta.num_experts !== E)
      throw inputError(
        `trace has ${trace.numLayers} layers × ${trace.meta.num_experts} experts top-${trace.topK}, the first has ${L} × ${E} top-${K}`,
        `traces[${index}]`,
      );
    total += trace.numTokens;
  }
  const tokens = new Int32Array(total);
  const positions = new Int32Array(total);
  const topkIds = new Int16Array(L * total * K);
  const withAttention = traces.every((trace) => trace.attentionIds);
  const attentionIds = withAttention ? new Int32Array(L * total) : undefined;
  let offset = 0;
  for (const trace of traces) {
    const T = trace.numTokens;
    tokens.set(trace.tokens, offset);
    for (let t = 0; t < T; t++) positions[offset + t] = t % trace.meta.chunk;
    for (let layer = 0; layer < L; layer++) {
      topkIds.set(trace.topkIds.subarray(layer * T * K, (layer + 1) * T * K), (layer * total + offset) * K);
      if (attentionIds && trace.attentionIds)
        attentionIds.set(trace.attentionIds.subarray(layer * T, (layer + 1) * T), layer * total + offset);
    }
    offset += T;
  }
  return { data: { tokens, positions, topkIds, attentionIds }, first };
}

function laddersFor(options: ResolvedFitOptions, numLayers: number, hasAttention: boolean): LevelKind[][] {
  return Array.from({ length: numLayers }, (_, layer) => {
    if (options.strategy === 'paper') return ['global', 'token'] as LevelKind[];
    const ladder: LevelKind[] = ['global', 'token'];
    if (hasAttention) ladder.push('attention');
    for (let i = 0; i < options.contextTokens; i++) ladder.push('context');
    if (options.usePreviousLayer && layer > 0) ladder.push('previousLayer');
    return ladder;
  });
}

function baseDistribution(numExperts: number, prior: number[] | undefined, where: string): Float64Array {
  const base = new Float64Array(numExperts);
  if (!prior) return base.fill(1 / numExperts);
  if (prior.length !== numExperts)
    throw inputError(`prior load has ${prior.length} experts, the trace has ${numExperts}`, where);
  // Laplace-smoothed so no expert has prior mean 0.
  const total = prior.reduce((a, b) => a + b, 0) + numExperts;
  for (let e = 0; e < numExperts; e++) base[e] = (prior[e]! + 1) / total;
  return base;
}

/** How many leading levels of a ladder do not depend on the layer (same contexts on every layer). */
export function layerFreePrefix(ladder: readonly LevelKind[]): number {
  let length = 0;
  while (length < ladder.length && ladder[length] !== 'attention' && ladder[length] !== 'previousLayer')
    length++;
  return length;
}
