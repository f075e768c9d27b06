import { deploymentPlanSchema, expertQuantizationSchema } from '@switchyard/core';
import { z } from 'zod';

/** Where routed experts run. */
export const expertTargets = ['in-process', 'local', 'aws'] as const;
export type ExpertTarget = (typeof expertTargets)[number];

export const batchSchedulerOptionsSchema = z.object({
  /** `continuous`: sequences join and leave between steps; `sequential`: one request at a time. */
  batching: z.enum(['continuous', 'sequential']).default('continuous'),
  /** Largest number of sequences advanced together (continuous batching). */
  maxBatchSize: z.number().int().positive().max(1024).default(32),
  /**
   * Most tokens fed through the model in one step (prefill chunks and decode tokens together), as the
   * paper's batches; a longer prompt is prefilled in chunks over several steps. Default: no limit.
   */
  maxBatchTokens: z.number().int().positive().optional(),
  /** Seeds sampling for requests that send no `seed` (default: the clock). */
  seed: z.number().int().nonnegative().optional(),
});

export type BatchSchedulerOptions = z.input<typeof batchSchedulerOptionsSchema>;
export type ResolvedBatchSchedulerOptions = z.output<typeof batchSchedulerOptionsSchema>;

export const adaptationOptionsSchema = z.object({
  /** How often the active plan's predicted cost is re-evaluated; 0 = only on `check()`. */
  intervalMs: z.number().int().nonnegative().default(60_000),
  /**
   * Re-plan when |predicted $/batch now ÷ predicted $/batch at rollout − 1| exceeds this
   * (0 = re-plan on any change of the forecast).
   */
  driftThreshold: z.number().nonnegative().default(0.25),
  /** Evaluation budget of the optimizer's knob search per re-plan. */
  maxEvaluations: z.number().int().positive().default(16),
  /** Most replicas per function in new plans. */
  maxReplicas: z.number().int().min(1).max(64).default(8),
  seed: z.number().int().default(0),
  /**
   * During a rollout, the share of a kept function's `live` invocations routed to its new version
   * while that version warms (Lambda's weighted alias); the rest stays on the serving version.
   */
  warmWeight: z.number().gt(0).lt(1).default(0.5),
  /** How long that weighted routing lasts before `live` moves all invocations to the new version. */
  warmMs: z.number().int().nonnegative().default(5_000),
});

export type AdaptationOptions = z.input<typeof adaptationOptionsSchema>;
export type ResolvedAdaptationOptions = z.output<typeof adaptationOptionsSchema>;

export const remoteExpertsOptionsSchema = z.object({
  target: z.enum(['local', 'aws']),
  /** Deployment plan JSON; default: `plan`, else one function per expert (`createDefaultPlan`). */
  planPath: z.string().min(1).optional(),
  /** A plan object (used when `planPath` is not given). */
  plan: deploymentPlanSchema.optional(),
  /** Lambda API endpoint (a running `switchyard lambda serve`); `local` without it starts one in process. */
  endpoint: z.string().url().optional(),
  /** S3 API endpoint for plans with S3 transports when `endpoint` is given. */
  s3Endpoint: z.string().url().optional(),
  /** Bucket for the S3 transports (`local`: created on first use). */
  bucket: z.string().min(1).default('switchyard-scatter-gather'),
  region: z.string().min(1).default('us-east-1'),
});

export type RemoteExpertsOptions = z.input<typeof remoteExpertsOptionsSchema>;
export type ResolvedRemoteExpertsOptions = z.output<typeof remoteExpertsOptionsSchema>;

export const servingOptionsSchema = z.object({
  /** Hugging Face checkpoint directory (config.json + *.safetensors). */
  modelDir: z.string().min(1),
  /**
   * Where routed experts run. `in-process` runs them inside the server's onnxruntime sessions;
   * `local` deploys the plan to the embedded Lambda runtime (or `endpoint`) and scatter-gathers to it;
   * `aws` invokes the plan's already-deployed Lambda functions in `region`.
   */
  target: z.enum(expertTargets).default('in-process'),
  /** Lambda API endpoint for `local` (a running `switchyard lambda serve`); default: start one in process. */
  endpoint: remoteExpertsOptionsSchema.shape.endpoint,
  /** Deployment plan JSON for `local`/`aws`; default: one function per expert. */
  planPath: remoteExpertsOptionsSchema.shape.planPath,
  /** AWS region for `aws`. */
  region: z.string().min(1).optional(),
  /** Re-planning when the active plan's predicted cost drifts (`local` only); false disables it. */
  adaptation: z
    .union([adaptationOptionsSchema, z.literal(false)])
    .default(() => adaptationOptionsSchema.parse({})),
  ...batchSchedulerOptionsSchema.shape,
  /** onnxruntime intra-op threads per session. */
  threads: z.number().int().positive().max(256).default(1),
  /** The format routed experts run (and deployed functions ship) in; float32 when absent. */
  quantization: expertQuantizationSchema.optional(),
  /** Routing traces to fit the expert-popularity predictor on; it then learns online from served routing. */
  predictorTraces: z.array(z.string().min(1)).default([]),
});

export type ServingOptions = z.input<typeof servingOptionsSchema>;
export type ResolvedServingOptions = z.output<typeof servingOptionsSchema>;
