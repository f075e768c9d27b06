import { type Architecture, supportedArchitectures } from '@switchyard/core';
import { z } from 'zod';
import { ModelError } from './errors.js';

/** How the router turns logits into top-k ids and weights. */
export type RoutingKind = 'softmax-topk';

/** The checkpoint's config.json normalised into what the runtime needs, per architecture. */
export interface ModelConfig {
  architecture: Architecture;
  hiddenSize: number;
  numLayers: number;
  vocabSize: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
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

export interface TensorNames {
  embed: string;
  finalNorm: string;
  lmHead: string;
  inputNorm(layer: number): string;
  postAttentionNorm(layer: number): string;
  attention(layer: number, part: 'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'q_norm' | 'k_norm'): string;
  router(layer: number): string;
  /** gate (w1), up (w3), down (w2) projection weights of a routed expert. */
  expert(layer: number, expert: number, part: 'gate' | 'up' | 'down'): string;
  sharedExpert(layer: number, part: 'gate' | 'up' | 'down'): string;
  sharedExpertGate(layer: number): string;
  denseMlp(layer: number, part: 'gate' | 'up' | 'down'): string;
}

const positiveInt = z.number().int().positive();

const commonSchema = z.looseObject({
  model_type: z.string(),
  hidden_size: positiveInt,
  num_hidden_layers: positiveInt,
  vocab_size: positiveInt,
  num_attention_heads: positiveInt,
  num_key_value_heads: positiveInt.optional().nullable(),
  head_dim: positiveInt.optional().nullable(),
  rms_norm_eps: z.number().positive(),
  num_experts_per_tok: positiveInt,
  intermediate_size: positiveInt.optional().nullable(),
  tie_word_embeddings: z.boolean().optional(),
  rope_theta: z.number().positive().optional(),
  rope_parameters: z
    .looseObject({ rope_theta: z.number().positive().optional(), rope_type: z.string().optional() })
    .optional()
    .nullable(),
});

function parseFields<S extends z.ZodType>(schema: S, raw: unknown, source: string): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.') || '(root)';
  throw new ModelError({
    code: 'INVALID_CONFIG',
    message: `config field ${field}: ${issue.message}`,
    location: `${source}: ${field}`,
    cause: result.error,
  });
}

function ropeTheta(raw: z.output<typeof commonSchema>, source: string): number {
  const theta = raw.rope_parameters?.rope_theta ?? raw.rope_theta;
  if (theta === undefined)
    throw new ModelError({
      code: 'INVALID_CONFIG',
      message: 'rope theta is missing (rope_parameters.rope_theta or rope_theta)',
      location: `${source}: rope_parameters.rope_theta`,
    });
  const type = raw.rope_parameters?.rope_type ?? 'default';
  if (type !== 'default')
    throw new ModelError({
      code: 'INVALID_CONFIG',
      message: `rope_type ${JSON.stringify(type)} is not supported for ${raw.model_type} (supported: default)`,
      location: `${source}: rope_parameters.rope_type`,
    });
  return theta;
}

const hfNames = (
  expertBlock: string,
  gate: string,
  expertParts: Record<'gate' | 'up' | 'down', string>,
): TensorNames => ({
  embed: 'model.embed_tokens.weight',
  finalNorm: 'model.norm.weight',
  lmHead: 'lm_head.weight',
  inputNorm: (l) => `model.layers.${l}.input_layernorm.weight`,
  postAttentionNorm: (l) => `model.layers.${l}.post_attention_layernorm.weight`,
  attention: (l, part) => `model.layers.${l}.self_attn.${part}`,
  router: (l) => `model.layers.${l}.${expertBlock}.${gate}.weight`,
  expert: (l, e, part) => `model.layers.${l}.${expertBlock}.experts.${e}.${expertParts[part]}.weight`,
  sharedExpert: (l, part) => `model.layers.${l}.${expertBlock}.shared_expert.${part}_proj.weight`,
  sharedExpertGate: (l) => `model.layers.${l}.${expertBlock}.shared_expert_gate.weight`,
  denseMlp: (l, part) => `model.layers.${l}.mlp.${part}_proj.weight`,
});

const projParts = { gate: 'gate_proj', up: 'up_proj', down: 'down_proj' } as const;

function base(raw: z.output<typeof commonSchema>, source: string) {
  const numKeyValueHeads = raw.num_key_value_heads ?? raw.num_attention_heads;
  if (raw.num_attention_heads % numKeyValueHeads !== 0) {
    throw new ModelError({
      code: 'INVALID_CONFIG',
      message: `num_attention_heads ${raw.num_attention_heads} is not a multiple of num_key_value_heads ${numKeyValueHeads}`,
      location: `${source}: num_key_value_heads`,
    });
  }
  return {
    hiddenSize: raw.hidden_size,
    numLayers: raw.num_hidden_layers,
    vocabSize: raw.vocab_size,
    numAttentionHeads: raw.num_attention_heads,
    numKeyValueHeads,
    headDim: raw.head_dim ?? raw.hidden_size / raw.num_attention_heads,
    rmsNormEps: raw.rms_norm_eps,
    ropeTheta: ropeTheta(raw, source),
    topK: raw.num_experts_per_tok,
    tieWordEmbeddings: raw.tie_word_embeddings ?? false,
  };
}

type Adapter = (raw: unknown, source: string) => ModelConfig;

const adapters: Partial<Record<Architecture, Adapter>> = {
  mixtral(raw, source) {
    const c = parseFields(
      commonSchema.extend({ num_local_experts: positiveInt, intermediate_size: positiveInt }),
      raw,
      source,
    );
    return {
      ...base(c, source),
      architecture: 'mixtral',
      moeLayers: Array.from({ length: c.num_hidden_layers }, (_, i) => i),
      numExperts: c.num_local_experts,
      expertIntermediateSize: c.intermediate_size,
      denseIntermediateSize: c.intermediate_size,
      normTopkProb: true,
      routing: 'softmax-topk',
      attentionBias: false,
      qkNorm: 'none',
      sharedExpertIntermediateSize: 0,
      sharedExpertGated: false,
      names: hfNames('block_sparse_moe', 'gate', { gate: 'w1', up: 'w3', down: 'w2' }),
    };
  },
  qwen2_moe(raw, source) {
    const c = parseFields(
      commonSchema.extend({
        num_experts: positiveInt,
        moe_intermediate_size: positiveInt,
        intermediate_size: positiveInt,
        shared_expert_intermediate_size: z.number().int().nonnegative(),
        norm_topk_prob: z.boolean().optional(),
        decoder_sparse_step: positiveInt.optional(),
        mlp_only_layers: z.array(z.number().int().nonnegative()).optional(),
        qkv_bias: z.boolean().optional(),
        use_sliding_window: z.boolean().optional(),
      }),
      raw,
      source,
    );
    if (c.use_sliding_window)
      throw new ModelError({
        code: 'INVALID_CONFIG',
        message: 'use_sliding_window=true is not supported for qwen2_moe',
        location: `${source}: use_sliding_window`,
      });
    return {
      ...base(c, source),
      architecture: 'qwen2_moe',
      moeLayers: sparseLayers(c.num_hidden_layers, c.decoder_sparse_step ?? 1, c.mlp_only_layers ?? []),
      numExperts: c.num_experts,
      expertIntermediateSize: c.moe_intermediate_size,
      denseIntermediateSize: c.intermediate_size,
      normTopkProb: c.norm_topk_prob ?? false,
      routing: 'softmax-topk',
      attentionBias: c.qkv_bias ?? true,
      qkNorm: 'none',
      sharedExpertIntermediateSize: c.shared_expert_intermediate_size,
      sharedExpertGated: true,
      names: hfNames('mlp', 'gate', projParts),
    };
  },
  qwen3_moe(raw, source) {
    const c = parseFields(
      commonSchema.extend({
        num_experts: positiveInt.optional(),
        num_local_experts: positiveInt.optional(),
        moe_intermediate_size: positiveInt,
        intermediate_size: positiveInt,
        norm_topk_prob: z.boolean().optional(),
        decoder_sparse_step: positiveInt.optional(),
        mlp_only_layers: z.array(z.number().int().nonnegative()).optional(),
        attention_bias: z.boolean().optional(),
        use_sliding_window: z.boolean().optional(),
      }),
      raw,
      source,
    );
    const numExperts = c.num_experts ?? c.num_local_experts;
    if (numExperts === undefined)
      throw new ModelError({
        code: 'INVALID_CONFIG',
        message: 'num_experts is missing',
        location: `${source}: num_experts`,
      });
    return {
      ...base(c, source),
      architecture: 'qwen3_moe',
      moeLayers: sparseLayers(c.num_hidden_layers, c.decoder_sparse_step ?? 1, c.mlp_only_layers ?? []),
      numExperts,
      expertIntermediateSize: c.moe_intermediate_size,
      denseIntermediateSize: c.intermediate_size,
      normTopkProb: c.norm_topk_prob ?? false,
      routing: 'softmax-topk',
      attentionBias: c.attention_bias ?? false,
      qkNorm: 'head',
      sharedExpertIntermediateSize: 0,
      sharedExpertGated: false,
      names: hfNames('mlp', 'gate', projParts),
    };
  },
  olmoe(raw, source) {
    const c = parseFields(
      commonSchema.extend({
        num_experts: positiveInt,
        intermediate_size: positiveInt,
        norm_topk_prob: z.boolean().optional(),
        attention_bias: z.boolean().optional(),
        clip_qkv: z.number().nullable().optional(),
      }),
      raw,
      source,
    );
    if (c.clip_qkv != null)
      throw new ModelError({
        code: 'INVALID_CONFIG',
        message: 'clip_qkv is not supported',
        location: `${source}: clip_qkv`,
      });
    return {
      ...base(c, source),
      architecture: 'olmoe',
      moeLayers: Array.from({ length: c.num_hidden_layers }, (_, i) => i),
      numExperts: c.num_experts,
      expertIntermediateSize: c.intermediate_size,
      denseIntermediateSize: c.intermediate_size,
      normTopkProb: c.norm_topk_prob ?? false,
      routing: 'softmax-topk',
      attentionBias: c.attention_bias ?? false,
      qkNorm: 'full',
      sharedExpertIntermediateSize: 0,
      sharedExpertGated: false,
      names: hfNames('mlp', 'gate', projParts),
    };
  },
};

function sparseLayers(numLayers: number, step: number, mlpOnly: number[]): number[] {
  const layers: number[] = [];
  for (let i = 0; i < numLayers; i++) if (!mlpOnly.includes(i) && (i + 1) % step === 0) layers.push(i);
  return layers;
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
    throw new ModelError({
      code: 'INVALID_CONFIG',
      message: 'model_type is missing or not a string',
      location: `${source}: model_type`,
    });
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
