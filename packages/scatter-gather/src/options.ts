import { lambdaLimits, transportMethods, wireDtypes } from '@switchyard/core';
import { z } from 'zod';

export const retryOptionsSchema = z.object({
  /** Extra attempts per mini-batch after the first, each on another replica when there is one. */
  maxRetries: z.number().int().nonnegative().default(3),
  /** Abandon one attempt after this long and retry it; omitted = only the layer deadline applies. */
  attemptTimeoutMs: z.number().positive().optional(),
});

export const hedgeOptionsSchema = z.object({
  enabled: z.boolean().default(false),
  /** Send a duplicate when an attempt is slower than this quantile of the layer's recent latencies. */
  quantile: z.number().min(0.5).max(0.999).default(0.95),
  /** Latencies observed before quantile hedging starts. */
  minSamples: z.number().int().positive().default(16),
  /** A fixed hedge delay; overrides the quantile when set. */
  afterMs: z.number().positive().optional(),
  /** Never hedge sooner than this. */
  minDelayMs: z.number().nonnegative().default(1),
  /** Duplicates per mini-batch. */
  maxHedgesPerBatch: z.number().int().nonnegative().default(1),
});

export const s3TransportOptionsSchema = z.object({
  bucket: z.string().min(1),
  /** Key prefix for input/output objects. */
  prefix: z.string().default('switchyard/scatter-gather'),
  /** Delete the objects of a mini-batch once its answer is in. */
  deleteObjects: z.boolean().default(true),
  /** Create the bucket before the first upload (ignored if it exists). */
  createBucket: z.boolean().default(false),
  /** Used to build an S3Client when none is passed: S3 API endpoint (e.g. the local runtime's). */
  endpoint: z.string().url().optional(),
  region: z.string().default('us-east-1'),
  /** Path-style addressing; the local runtime's S3 API needs it. Default: on when `endpoint` is set. */
  forcePathStyle: z.boolean().optional(),
  credentials: z.object({ accessKeyId: z.string(), secretAccessKey: z.string() }).optional(),
});

export const scatterGatherOptionsSchema = z.object({
  /** Wire dtype. Only f32 keeps results bit-identical to the in-process step. */
  wireDtype: z.enum(wireDtypes).default('f32'),
  /** Overrides every layer's β from the plan. */
  beta: z.number().int().positive().optional(),
  /** Overrides every layer's transport method from the plan. */
  method: z.enum(transportMethods).optional(),
  /**
   * Request/response limit for `direct`, counted after the executor's base64 JSON envelope. Default:
   * Lambda's synchronous invoke limit, 6 MB each way (architecture/aws-lambda-facts.md).
   */
  payloadLimitBytes: z.number().int().positive().default(lambdaLimits.syncPayloadBytes),
  /** Bytes of JSON around the base64 payload in the executor's envelope (upper bound). */
  envelopeOverheadBytes: z.number().int().nonnegative().default(1024),
  /** Concurrent invocations per layer. */
  maxInFlight: z.number().int().positive().default(64),
  /** Concurrent invocations per replica function. */
  maxInFlightPerReplica: z.number().int().positive().default(8),
  /** Whole-layer deadline; the step rejects with TIMEOUT after it. */
  layerDeadlineMs: z.number().positive().optional(),
  // `prefault`: an omitted object is parsed as `{}`, so its defaults are the ones written above.
  retry: retryOptionsSchema.prefault({}),
  hedge: hedgeOptionsSchema.prefault({}),
  s3: s3TransportOptionsSchema.optional(),
  /** Skip the wire checksum on responses. */
  skipChecksum: z.boolean().default(false),
});

/** What callers pass (defaults may be left out). */
export type ScatterGatherOptions = z.input<typeof scatterGatherOptionsSchema>;
/** The options with every default applied, as the dispatcher reads them. */
export type ResolvedScatterGatherOptions = z.output<typeof scatterGatherOptionsSchema>;
