import { type Architecture, supportedArchitectures } from '@switchyard/core';
import { z } from 'zod';
import { ModelError } from './errors.js';

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

export interface TensorNames {
  embed: string;
  finalNorm: string;
  lmHead: string;
  inputNorm(layer: number): string;
  postAttentionNorm(layer: number): string;
  /** `model.layers.{layer}.self_attn.{part}` (q_proj, k_norm, sinks, q_a_proj, kv_b_proj, …). */
  attention(layer: number, part: string): string;
  router(layer: number): string;
  /** gpt_oss fused expert tensors: gate_up_proj [E, H, 2I] (gate/up interleaved), down_proj [E, I, H] and their biases. */
  fusedExperts(
    layer: number,
    part: 'gate_up_proj' | 'gate_up_proj_bias' | 'down_proj' | 'down_proj_bias',
  ): string;
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

function ropeConfig(
  raw: z.output<typeof commonSchema>,
  source: string,
  dim: number,
  interleave = false,
): RopeConfig {
  const parameters = (raw.rope_parameters ?? (raw as Record<string, unknown>).rope_scaling ?? {}) as Record<
    string,
    unknown
  >;
  const theta = (parameters.rope_theta as number | undefined) ?? raw.rope_theta;
  if (typeof theta !== 'number' || !(theta > 0))
    throw new ModelError({
      code: 'INVALID_CONFIG',
      message: 'rope theta is missing (rope_parameters.rope_theta or rope_theta)',
      location: `${source}: rope_parameters.rope_theta`,
    });
  const type =
    (parameters.rope_type as string | undefined) ?? (parameters.type as string | undefined) ?? 'default';
  if (type !== 'default' && type !== 'yarn')
    throw new ModelError({
      code: 'INVALID_CONFIG',
      message: `rope_type ${JSON.stringify(type)} is not supported (supported: default, yarn)`,
      location: `${source}: rope_parameters.rope_type`,
    });
  const number = (key: string, fallback: number): number => {
    const value = parameters[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number')
      throw new ModelError({
        code: 'INVALID_CONFIG',
        message: `${key} is not a number`,
        location: `${source}: rope_parameters.${key}`,
      });
    return value;
  };
  const attentionFactor = parameters.attention_factor;
  return {
    kind: type,
    theta,
    dim,
    interleave,
    factor: number('factor', 1),
    betaFast: number('beta_fast', 32),
    betaSlow: number('beta_slow', 1),
    originalMaxPositions: number(
      'original_max_position_embeddings',
      ((raw as Record<string, unknown>).max_position_embeddings as number) ?? 4096,
    ),
    ...(typeof attentionFactor === 'number' ? { attentionFactor } : {}),
    truncate: parameters.truncate !== false,
  };
}

const hfNames = (
  expertBlock: string,
  gate: string,
  expertParts: Record<'gate' | 'up' | 'down', string>,
  sharedBlock = 'shared_expert',
): TensorNames => ({
  embed: 'model.embed_tokens.weight',
  finalNorm: 'model.norm.weight',
  lmHead: 'lm_head.weight',
  inputNorm: (l) => `model.layers.${l}.input_layernorm.weight`,
  postAttentionNorm: (l) => `model.layers.${l}.post_attention_layernorm.weight`,
  attention: (l, part) => `model.layers.${l}.self_attn.${part}`,
  router: (l) => `model.layers.${l}.${expertBlock}.${gate}.weight`,
  expert: (l, e, part) => `model.layers.${l}.${expertBlock}.experts.${e}.${expertParts[part]}.weight`,
  fusedExperts: (l, part) => `model.layers.${l}.${expertBlock}.experts.${part}`,
  sharedExpert: (l, part) => `model.layers.${l}.${expertBlock}.${sharedBlock}.${part}_proj.weight`,
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
  const headDim = raw.head_dim ?? raw.hidden_size / raw.num_attention_heads;
  return {
    hiddenSize: raw.hidden_size,
    numLayers: raw.num_hidden_layers,
    vocabSize: raw.vocab_size,
    numAttentionHeads: raw.num_attention_heads,
    numKeyValueHeads,
    headDim,
    rmsNormEps: raw.rms_norm_eps,
    rope: ropeConfig(raw, source, headDim),
    topK: raw.num_experts_per_tok,
    tieWordEmbeddings: raw.tie_word_embeddings ?? false,
    slidingWindows: Array.from({ length: raw.num_hidden_layers }, () => null),
    attentionSinks: false,
    attentionOutputBias: false,
    mla: null,
    cacheHeads: numKeyValueHeads,
    keyDim: headDim,
    valueDim: headDim,
    routerBias: false,
    numGroups: 1,
    topkGroups: 1,
    routedScalingFactor: 1,
    expertKind: 'swiglu' as const,
    swigluLimit: 0,
    swigluAlpha: 0,
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
  gpt_oss(raw, source) {
    const c = parseFields(
      commonSchema.extend({
        num_local_experts: positiveInt,
        intermediate_size: positiveInt,
        attention_bias: z.boolean().optional(),
        sliding_window: positiveInt.nullable().optional(),
        layer_types: z.array(z.enum(['sliding_attention', 'full_attention'])).optional(),
        swiglu_limit: z.number().positive().optional(),
      }),
      raw,
      source,
    );
    const layerTypes =
      c.layer_types ??
      Array.from({ length: c.num_hidden_layers }, (_, i) =>
        i % 2 === 0 ? 'sliding_attention' : 'full_attention',
      );
    if (layerTypes.length !== c.num_hidden_layers)
      throw new ModelError({
        code: 'INVALID_CONFIG',
        message: `layer_types has ${layerTypes.length} entries for ${c.num_hidden_layers} layers`,
        location: `${source}: layer_types`,
      });
    if (layerTypes.includes('sliding_attention') && !c.sliding_window)
      throw new ModelError({
        code: 'INVALID_CONFIG',
        message: 'sliding_window is required by sliding_attention layers',
        location: `${source}: sliding_window`,
      });
    return {
      ...base(c, source),
      architecture: 'gpt_oss',
      moeLayers: Array.from({ length: c.num_hidden_layers }, (_, i) => i),
      numExperts: c.num_local_experts,
      expertIntermediateSize: c.intermediate_size,
      denseIntermediateSize: c.intermediate_size,
      normTopkProb: true,
      routing: 'topk-softmax',
      attentionBias: c.attention_bias ?? true,
      attentionOutputBias: c.attention_bias ?? true,
      attentionSinks: true,
      slidingWindows: layerTypes.map((type) => (type === 'sliding_attention' ? c.sliding_window! : null)),
      qkNorm: 'none',
      routerBias: true,
      expertKind: 'gpt-oss',
      swigluLimit: c.swiglu_limit ?? 7,
      swigluAlpha: 1.702,
      sharedExpertIntermediateSize: 0,
      sharedExpertGated: false,
      names: hfNames('mlp', 'router', projParts),
    };
  },
  deepseek_v3(raw, source) {
    const c = parseFields(
      commonSchema.extend({
        n_routed_experts: positiveInt,
        moe_intermediate_size: positiveInt,
        intermediate_size: positiveInt,
        n_shared_experts: z.number().int().nonnegative().nullable().optional(),
        first_k_dense_replace: z.number().int().nonnegative().optional(),
        moe_layer_freq: positiveInt.optional(),
        n_group: positiveInt.optional(),
        topk_group: positiveInt.optional(),
        routed_scaling_factor: z.number().positive().optional(),
        norm_topk_prob: z.boolean().optional(),
        q_lora_rank: positiveInt.nullable().optional(),
        kv_lora_rank: positiveInt,
        qk_nope_head_dim: positiveInt,
        qk_rope_head_dim: positiveInt,
        v_head_dim: positiveInt,
        rope_interleave: z.boolean().optional(),
        attention_bias: z.boolean().optional(),
      }),
      raw,
      source,
    );
    if (c.attention_bias)
      throw new ModelError({
        code: 'INVALID_CONFIG',
        message: 'attention_bias=true is not supported for deepseek_v3',
        location: `${source}: attention_bias`,
      });
    const common = base(c, source);
    const rope = ropeConfig(c, source, c.qk_rope_head_dim, c.rope_interleave ?? true);
    if (rope.kind !== 'default')
      throw new ModelError({
        code: 'INVALID_CONFIG',
        message: 'deepseek_v3 supports rope_type default only in this version',
        location: `${source}: rope_parameters.rope_type`,
      });
    const numGroups = c.n_group ?? 1;
    if (c.n_routed_experts % numGroups !== 0)
      throw new ModelError({
        code: 'INVALID_CONFIG',
        message: `n_routed_experts ${c.n_routed_experts} is not a multiple of n_group ${numGroups}`,
        location: `${source}: n_group`,
      });
    const firstDense = c.first_k_dense_replace ?? 0;
    const frequency = c.moe_layer_freq ?? 1;
    const qkHeadDim = c.qk_nope_head_dim + c.qk_rope_head_dim;
    return {
      ...common,
      architecture: 'deepseek_v3',
      headDim: qkHeadDim,
      rope,
      mla: {
        qLoraRank: c.q_lora_rank ?? null,
        kvLoraRank: c.kv_lora_rank,
        qkNopeHeadDim: c.qk_nope_head_dim,
        qkRopeHeadDim: c.qk_rope_head_dim,
        vHeadDim: c.v_head_dim,
      },
      numKeyValueHeads: c.num_attention_heads,
      cacheHeads: c.num_attention_heads,
      keyDim: qkHeadDim,
      valueDim: c.v_head_dim,
      moeLayers: Array.from({ length: c.num_hidden_layers }, (_, i) => i).filter(
        (i) => i >= firstDense && i % frequency === 0,
      ),
      numExperts: c.n_routed_experts,
      expertIntermediateSize: c.moe_intermediate_size,
      denseIntermediateSize: c.intermediate_size,
      normTopkProb: c.norm_topk_prob ?? true,
      routing: 'sigmoid-group-topk',
      numGroups,
      topkGroups: c.topk_group ?? numGroups,
      routedScalingFactor: c.routed_scaling_factor ?? 1,
      attentionBias: false,
      qkNorm: 'none',
      sharedExpertIntermediateSize: (c.n_shared_experts ?? 0) * c.moe_intermediate_size,
      sharedExpertGated: false,
      names: hfNames('mlp', 'gate', projParts, 'shared_experts'),
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
