import { z } from 'zod';
import { expertQuantizationSchema } from './expert-quantization.js';

export const supportedArchitectures = [
  'mixtral',
  'qwen2_moe',
  'qwen3_moe',
  'olmoe',
  'deepseek_v3',
  'gpt_oss',
] as const;
export type Architecture = (typeof supportedArchitectures)[number];

/** What `switchyard inspect` reports about a checkpoint, and what planners need to know of a model. */
export const modelSummarySchema = z.object({
  name: z.string(),
  architecture: z.string(),
  numLayers: z.number().int().positive(),
  hiddenSize: z.number().int().positive(),
  vocabSize: z.number().int().positive(),
  numAttentionHeads: z.number().int().positive(),
  numKeyValueHeads: z.number().int().positive(),
  /** Decoder layer indices that hold a sparse MoE block. */
  moeLayers: z.array(z.number().int().nonnegative()),
  numExperts: z.number().int().positive(),
  topK: z.number().int().positive(),
  expertIntermediateSize: z.number().int().positive(),
  numSharedExperts: z.number().int().nonnegative(),
  /** Storage dtype of the checkpoint's weights (the most common one: F32, BF16, F16, F8_E4M3, …). */
  dtype: z.string(),
  parameters: z.object({
    total: z.number().int().nonnegative(),
    perExpert: z.number().int().nonnegative(),
    experts: z.number().int().nonnegative(),
    dense: z.number().int().nonnegative(),
  }),
  /**
   * Bytes of one routed expert's weights as an expert function holds them: float32, or the quantized
   * codes and scales when `quantization` says so.
   */
  bytesPerExpert: z.number().int().nonnegative(),
  /** The format the expert graphs are built in; absent = float32. */
  quantization: expertQuantizationSchema.optional(),
  /** sha256 of config.json and the weight files' headers; identifies the checkpoint in plans. */
  fingerprint: z.string(),
});

export type ModelSummary = z.infer<typeof modelSummarySchema>;
