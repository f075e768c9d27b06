import { expertQuantizationSchema, type Logger, type MoeStep } from '@switchyard/core';
import { z } from 'zod';

/** onnxruntime intra-op threads per session (the same default wherever a session is made). */
const threads = z.number().int().positive().max(256).default(1);

export const loadModelOptionsSchema = z.object({
  threads,
  /** Name used in the summary (defaults to the directory name). */
  name: z.string().min(1).optional(),
  /** Build and load every expert graph up front instead of on first use. */
  eagerExperts: z.boolean().default(false),
  /**
   * The format the routed experts' graphs are built in (once, at load; deterministic); float32 when
   * absent. int4's block size defaults to 32.
   */
  quantization: expertQuantizationSchema.optional(),
  /** Quantize the shared experts too (they run in process beside the dense layers). */
  quantizeSharedExperts: z.boolean().default(false),
});

/** What `loadModel` takes: the schema's fields, and a logger beside them. */
export type LoadModelOptions = z.input<typeof loadModelOptionsSchema> & { logger?: Logger };
export type ResolvedLoadModelOptions = z.output<typeof loadModelOptionsSchema>;

export const generateOptionsSchema = z.object({
  maxNewTokens: z.number().int().nonnegative().max(1_000_000).default(64),
  /** 0 (or `greedy: true`) means greedy decoding. */
  temperature: z.number().nonnegative().max(100).default(0),
  topP: z.number().gt(0).max(1).default(1),
  /** Sample among the k most likely tokens only (0: no limit), before `topP`. */
  topK: z.number().int().nonnegative().default(0),
  seed: z.number().int().nonnegative().default(0),
  greedy: z.boolean().default(false),
  /** Token-id sequences that end a sequence (not included in the output). */
  stopSequences: z.array(z.array(z.number().int().nonnegative()).min(1)).default([]),
  /** Token ids that end a sequence (included in the output, like an EOS). */
  stopTokens: z.array(z.number().int().nonnegative()).default([]),
});

/** What `model.generate` takes: the schema's fields, and the MoE step and abort signal beside them. */
export type GenerateOptions = z.input<typeof generateOptionsSchema> & {
  /** Replaces the in-process MoE step (scatter-gather plugs in here). */
  moeStep?: MoeStep;
  signal?: AbortSignal;
  /**
   * Called with each sampled token as it is sampled (for streaming), stop tokens included; tokens a
   * stop sequence later removes from the result have been reported too.
   */
  onToken?: (promptIndex: number, token: number) => void;
};
export type ResolvedGenerateOptions = z.output<typeof generateOptionsSchema>;

export const recordTraceOptionsSchema = z.object({
  /** Tokens per independent chunk (position = index mod chunk). */
  chunk: z.number().int().positive().default(256),
  /** Chunks run together in one forward call. */
  chunksPerBatch: z.number().int().positive().default(4),
  /** Extra JSON fields of the trace's metadata (e.g. `part`, `byte_offset`). */
  meta: z.record(z.string(), z.unknown()).optional(),
});

/** What `recordTrace` takes: the schema's fields, and the MoE step, progress callback and signal beside them. */
export type RecordTraceOptions = z.input<typeof recordTraceOptionsSchema> & {
  moeStep?: MoeStep;
  onProgress?: (doneTokens: number, totalTokens: number) => void;
  signal?: AbortSignal;
};
export type ResolvedRecordTraceOptions = z.output<typeof recordTraceOptionsSchema>;

export const expertRunnerOptionsSchema = z.object({ threads });
export type ExpertRunnerOptions = z.input<typeof expertRunnerOptionsSchema>;
export type ResolvedExpertRunnerOptions = z.output<typeof expertRunnerOptionsSchema>;

export const evaluateOptionsSchema = z.object({
  /** Tokens per non-overlapping window; each window starts a fresh sequence. */
  context: z.number().int().min(2).default(256),
  /** Windows run together in one forward call. */
  windowsPerBatch: z.number().int().positive().default(4),
});

/** What `evaluateLikelihood` takes: the schema's fields, and the MoE step, progress callback and signal beside them. */
export type EvaluateOptions = z.input<typeof evaluateOptionsSchema> & {
  moeStep?: MoeStep;
  onProgress?: (doneTokens: number, totalTokens: number) => void;
  signal?: AbortSignal;
};
export type ResolvedEvaluateOptions = z.output<typeof evaluateOptionsSchema>;

export const compareModelsOptionsSchema = z.object({
  /** Tokens per independent chunk, as in `recordTrace`. */
  chunk: z.number().int().positive().default(256),
  chunksPerBatch: z.number().int().positive().default(4),
});
export type CompareModelsOptions = z.input<typeof compareModelsOptionsSchema> & { signal?: AbortSignal };

export const exportGgufOptionsSchema = z.object({
  /**
   * Type of the large matrices (embedding, attention, experts, head). F32 keeps a checkpoint's values
   * exactly (a BF16 or F16 checkpoint widens without loss); norms and routers are always F32.
   */
  tensorType: z.enum(['F32', 'F16', 'BF16']).default('F32'),
  /** `general.name` (defaults to the checkpoint directory's name). */
  name: z.string().min(1).optional(),
});
export type ExportGgufOptions = z.input<typeof exportGgufOptionsSchema>;
export type ResolvedExportGgufOptions = z.output<typeof exportGgufOptionsSchema>;
