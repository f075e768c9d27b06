import { z } from 'zod';
import type { RopeConfig } from './config.js';
import { ModelError } from './errors.js';

/** An INVALID_CONFIG error naming the config.json field. */
export function configError(message: string, source: string, field: string, cause?: unknown): ModelError {
  return new ModelError({ code: 'INVALID_CONFIG', message, location: `${source}: ${field}`, cause });
}

export const positiveInt = z.number().int().positive();

/** The config.json fields every architecture has. */
export const commonSchema = z.looseObject({
  model_type: z.string(),
  hidden_size: positiveInt,
  num_hidden_layers: positiveInt,
  vocab_size: positiveInt,
  max_position_embeddings: positiveInt.optional().nullable(),
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

/** Parses an architecture's fields; INVALID_CONFIG naming the first bad field. */
export function parseFields<S extends z.ZodType>(schema: S, raw: unknown, source: string): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.') || '(root)';
  throw configError(`config field ${field}: ${issue.message}`, source, field, result.error);
}

/** The rope of a config (rope_parameters, or the older rope_scaling / rope_theta fields). */
export function ropeConfig(
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
    throw configError(
      'rope theta is missing (rope_parameters.rope_theta or rope_theta)',
      source,
      'rope_parameters.rope_theta',
    );
  const type =
    (parameters.rope_type as string | undefined) ?? (parameters.type as string | undefined) ?? 'default';
  if (type !== 'default' && type !== 'yarn')
    throw configError(
      `rope_type ${JSON.stringify(type)} is not supported (supported: default, yarn)`,
      source,
      'rope_parameters.rope_type',
    );
  const number = (key: string, fallback: number): number => {
    const value = parameters[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number')
      throw configError(`${key} is not a number`, source, `rope_parameters.${key}`);
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
    originalMaxPositions: number('original_max_position_embeddings', raw.max_position_embeddings ?? 4096),
    attentionFactor: typeof attentionFactor === 'number' ? attentionFactor : undefined,
    truncate: parameters.truncate !== false,
  };
}

/** The fields every architecture derives the same way from the common ones (overridden per adapter). */
export function base(raw: z.output<typeof commonSchema>, source: string) {
  const numKeyValueHeads = raw.num_key_value_heads ?? raw.num_attention_heads;
  if (raw.num_attention_heads % numKeyValueHeads !== 0) {
    throw configError(
      `num_attention_heads ${raw.num_attention_heads} is not a multiple of num_key_value_heads ${numKeyValueHeads}`,
      source,
      'num_key_value_heads',
    );
  }
  const headDim = raw.head_dim ?? raw.hidden_size / raw.num_attention_heads;
  return {
    hiddenSize: raw.hidden_size,
    numLayers: raw.num_hidden_layers,
    vocabSize: raw.vocab_size,
    maxPositionEmbeddings: raw.max_position_embeddings ?? undefined,
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

/** MoE layers of qwen's `decoder_sparse_step` / `mlp_only_layers` scheme. */
export function sparseLayers(numLayers: number, step: number, mlpOnly: number[]): number[] {
  const layers: number[] = [];
  for (let i = 0; i < numLayers; i++) if (!mlpOnly.includes(i) && (i + 1) % step === 0) layers.push(i);
  return layers;
}
