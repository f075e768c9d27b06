import { type Architecture, supportedArchitectures } from '@switchyard/core';
import { adapters } from './architecture-adapters.js';
import { configError } from './config-fields.js';
import { ModelError } from './errors.js';
import type { TensorNames } from './tensor-names.js';

/** How the router turns logits into top-k ids and weights. */
export type RoutingKind =
  /** softmax over all experts, top-k, optional renormalisation (mixtral, qwen, olmoe). */
  | 'softmax-topk'
  /** top-k of the logits, softmax over those k (gpt_oss). */
  | 'topk-softmax'
  /** sigmoid scores + correction bias, group-limited top-k, weights from the plain scores, routed scaling (deepseek_v3). */
  | 'sigmoid-group-topk';

export interface RopeConfig {
  kind: 'default' | 'yarn';
  theta: number;
  /** Rotated dimensions per head (head_dim, or qk_rope_head_dim for MLA). */
  dim: number;
  /** deepseek: rope dims are stored interleaved (x0, y0, x1, y1, …). */
  interleave: boolean;
  factor: number;
  betaFast: number;
  betaSlow: number;
  originalMaxPositions: number;
  attentionFactor?: number;
  truncate: boolean;
}

/** Multi-head latent attention dimensions (deepseek_v3). */
export interface MlaConfig {
  qLoraRank: number | null;
  kvLoraRank: number;
  qkNopeHeadDim: number;
  qkRopeHeadDim: number;
  vHeadDim: number;
}

/** The checkpoint's config.json normalised into what the runtime needs, per architecture. */
export interface ModelConfig {
  architecture: Architecture;
  hiddenSize: number;
  numLayers: number;
  vocabSize: number;
  /** config.json's `max_position_embeddings`: the longest sequence (prompt + output) the model takes; undefined when absent. */
  maxPositionEmbeddings: number | undefined;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  headDim: number;
  rmsNormEps: number;
  rope: RopeConfig;
  /** Per decoder layer: sliding-window size in tokens, or null for full attention. */
  slidingWindows: (number | null)[];
  /** gpt_oss: per-head learned sink logits join the softmax. */
  attentionSinks: boolean;
  attentionOutputBias: boolean;
  mla: MlaConfig | null;
  /** Heads and per-head sizes of the cached keys / values. */
  cacheHeads: number;
  keyDim: number;
  valueDim: number;
  /** Router has a bias (gpt_oss). */
  routerBias: boolean;
  /** deepseek_v3 group-limited routing. */
  numGroups: number;
  topkGroups: number;
  routedScalingFactor: number;
  /** Expert FFN form: plain SwiGLU, or gpt_oss's clamped SwiGLU with biases on fused tensors. */
  expertKind: 'swiglu' | 'gpt-oss';
  swigluLimit: number;
  swigluAlpha: number;
  /** Decoder layers with a sparse MoE block; the others have a dense MLP. */
  moeLayers: number[];
  numExperts: number;
  topK: number;
  expertIntermediateSize: number;
  /** Dense MLP width of non-MoE layers. */
  denseIntermediateSize: number;
  /** Renormalise the top-k probabilities to sum to 1. */
  normTopkProb: boolean;
  routing: RoutingKind;
  attentionBias: boolean;
  /** q/k RMSNorm: none, per head (qwen3), or over the whole projection (olmoe). */
  qkNorm: 'none' | 'head' | 'full';
  /** Shared expert width (0 = none) and whether a sigmoid gate scales it (qwen2_moe). */
  sharedExpertIntermediateSize: number;
  sharedExpertGated: boolean;
  tieWordEmbeddings: boolean;
  /** Tensor names in the hub layout. */
  names: TensorNames;
}

/** Architectures this version can run (a subset of core's `supportedArchitectures` while adapters land). */
export const runnableArchitectures = Object.keys(adapters) as Architecture[];

/** Parses config.json contents; throws INVALID_CONFIG / UNSUPPORTED_ARCHITECTURE naming the field. */
export function parseModelConfig(raw: unknown, source = 'config.json'): ModelConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ModelError({
      code: 'INVALID_CONFIG',
      message: 'config is not a JSON object',
      location: source,
    });
  const modelType = (raw as Record<string, unknown>).model_type;
  if (typeof modelType !== 'string')
    throw configError('model_type is missing or not a string', source, 'model_type');
  const adapter = adapters[modelType as Architecture];
  if (!adapter) {
    const known = (supportedArchitectures as readonly string[]).includes(modelType);
    throw new ModelError({
      code: 'UNSUPPORTED_ARCHITECTURE',
      message: `model_type ${JSON.stringify(modelType)} is ${known ? 'not runnable in this version' : 'not supported'}; supported: ${runnableArchitectures.join(', ')}`,
      location: `${source}: model_type`,
    });
  }
  return adapter(raw, source);
}
