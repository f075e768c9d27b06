import type { Architecture } from '@switchyard/core';
import { z } from 'zod';
import type { ModelConfig } from './config.js';
import {
  base,
  commonSchema,
  configError,
  parseFields,
  positiveInt,
  ropeConfig,
  sparseLayers,
} from './config-fields.js';
import { hfNames, projParts } from './tensor-names.js';

/** Normalises one architecture's config.json (already known to be an object) into a ModelConfig. */
type Adapter = (raw: unknown, source: string) => ModelConfig;

/** The architectures this version runs, by config.json `model_type`. */
export const adapters: Partial<Record<Architecture, Adapter>> = {
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
      throw configError(
        'use_sliding_window=true is not supported for qwen2_moe',
        source,
        'use_sliding_window',
      );
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
    if (numExperts === undefined) throw configError('num_experts is missing', source, 'num_experts');
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
    if (c.clip_qkv != null) throw configError('clip_qkv is not supported', source, 'clip_qkv');
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
      throw configError(
        `layer_types has ${layerTypes.length} entries for ${c.num_hidden_layers} layers`,
        source,
        'layer_types',
      );
    if (layerTypes.includes('sliding_attention') && !c.sliding_window)
      throw configError('sliding_window is required by sliding_attention layers', source, 'sliding_window');
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
      throw configError('attention_bias=true is not supported for deepseek_v3', source, 'attention_bias');
    const common = base(c, source);
    const rope = ropeConfig(c, source, c.qk_rope_head_dim, c.rope_interleave ?? true);
    if (rope.kind !== 'default')
      throw configError(
        'deepseek_v3 supports rope_type default only in this version',
        source,
        'rope_parameters.rope_type',
      );
    const numGroups = c.n_group ?? 1;
    if (c.n_routed_experts % numGroups !== 0)
      throw configError(
        `n_routed_experts ${c.n_routed_experts} is not a multiple of n_group ${numGroups}`,
        source,
        'n_group',
      );
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
