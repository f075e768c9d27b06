import { z } from 'zod';
import { ServingError } from '../errors.js';
import { expertTargets, type ServingOptions } from '../options.js';
import type { ServerOptions } from './server-options.js';

const integer = z.coerce.number().int();
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');
const list = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

/**
 * The SWITCHYARD_* variables both apps that serve (`apps/server`, `switchyard serve`) honour. Every
 * variable is optional and has no default here: unset means the options' own default.
 */
export const servingEnvSchema = z.object({
  SWITCHYARD_HOST: z.string().min(1).optional(),
  SWITCHYARD_PORT: integer.min(0).max(65_535).optional(),
  /** Comma-separated bearer tokens. */
  SWITCHYARD_API_KEYS: list.optional(),
  SWITCHYARD_MODEL_DIR: z.string().min(1).optional(),
  /** The id the server answers to (`--served-model-name`). */
  SWITCHYARD_MODEL_NAME: z.string().min(1).optional(),
  /** `true`: /v1/completions renders text prompts with the chat template (`--chat`). */
  SWITCHYARD_CHAT: flag.optional(),
  SWITCHYARD_MAX_BODY_BYTES: integer.positive().optional(),
  SWITCHYARD_MAX_PROMPT_TOKENS: integer.positive().optional(),
  SWITCHYARD_MAX_TOKENS: integer.positive().optional(),
  SWITCHYARD_RATE_LIMIT_PER_MINUTE: z.coerce.number().nonnegative().optional(),
  SWITCHYARD_RATE_LIMIT_BURST: integer.positive().optional(),
  SWITCHYARD_REQUEST_TIMEOUT_MS: integer.positive().optional(),
  SWITCHYARD_SHUTDOWN_GRACE_MS: integer.nonnegative().optional(),
  SWITCHYARD_PUBLIC_METRICS: flag.optional(),
  /** Where the Batch API keeps its SQLite database and files (`--data-dir`); unset: no Batch API. */
  SWITCHYARD_DATA_DIR: z.string().min(1).optional(),
  /** `continuous` or `sequential` (one request at a time, for comparison). */
  SWITCHYARD_BATCHING: z.enum(['continuous', 'sequential']).optional(),
  SWITCHYARD_MAX_BATCH_SIZE: integer.positive().optional(),
  /** onnxruntime intra-op threads for the model. */
  SWITCHYARD_THREADS: integer.positive().optional(),
  SWITCHYARD_SEED: integer.min(0).optional(),
  /** Comma-separated routing traces to fit the online expert-popularity predictor on. */
  SWITCHYARD_PREDICTOR_TRACES: list.optional(),
  /** Where routed experts run: `in-process`, `local` (embedded Lambda runtime) or `aws`. */
  SWITCHYARD_TARGET: z.enum(expertTargets).optional(),
  /** Lambda API endpoint for `local` (default: start the runtime in process). */
  SWITCHYARD_LAMBDA_ENDPOINT: z.string().url().optional(),
  /** Deployment plan JSON for `local`/`aws` (default: one function per expert). */
  SWITCHYARD_PLAN: z.string().min(1).optional(),
  /** AWS region for `aws`. */
  SWITCHYARD_AWS_REGION: z.string().min(1).optional(),
  /** Re-plan when the active plan's predicted cost drifts by more than this fraction (local target). */
  SWITCHYARD_REPLAN_THRESHOLD: z.coerce.number().nonnegative().optional(),
  /** How often the drift is checked; 0 disables adaptation. */
  SWITCHYARD_REPLAN_INTERVAL_MS: integer.nonnegative().optional(),
});

export type ServingEnv = z.output<typeof servingEnvSchema>;

/** Validates the SWITCHYARD_* variables of `source` (the caller passes its environment). */
export function parseServingEnv(source: Readonly<Record<string, string | undefined>>): ServingEnv {
  const result = servingEnvSchema.safeParse(source);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new ServingError({
    code: 'INVALID_CONFIG',
    message: issue.message,
    location: `environment variable ${issue.path.join('.')}`,
    cause: result.error,
  });
}

/**
 * One flat layer of serving settings: what the environment or a command line sets. Unset fields
 * (undefined) leave the value of an earlier layer, or the options' default.
 */
export interface ServingSettings {
  modelDir?: string | undefined;
  target?: ServingOptions['target'];
  endpoint?: string | undefined;
  planPath?: string | undefined;
  region?: string | undefined;
  replanThreshold?: number | undefined;
  /** 0 turns adaptation off. */
  replanIntervalMs?: number | undefined;
  batching?: ServingOptions['batching'];
  maxBatchSize?: number | undefined;
  threads?: number | undefined;
  seed?: number | undefined;
  predictorTraces?: string[] | undefined;
  host?: string | undefined;
  port?: number | undefined;
  apiKeys?: string[] | undefined;
  modelName?: string | undefined;
  chat?: boolean | undefined;
  maxBodyBytes?: number | undefined;
  maxPromptTokens?: number | undefined;
  maxTokens?: number | undefined;
  rateLimitPerMinute?: number | undefined;
  rateLimitBurst?: number | undefined;
  requestTimeoutMs?: number | undefined;
  shutdownGraceMs?: number | undefined;
  publicMetrics?: boolean | undefined;
  dataDir?: string | undefined;
}

/** The settings the environment gives. */
export function settingsFromEnv(env: ServingEnv): ServingSettings {
  return {
    modelDir: env.SWITCHYARD_MODEL_DIR,
    target: env.SWITCHYARD_TARGET,
    endpoint: env.SWITCHYARD_LAMBDA_ENDPOINT,
    planPath: env.SWITCHYARD_PLAN,
    region: env.SWITCHYARD_AWS_REGION,
    replanThreshold: env.SWITCHYARD_REPLAN_THRESHOLD,
    replanIntervalMs: env.SWITCHYARD_REPLAN_INTERVAL_MS,
    batching: env.SWITCHYARD_BATCHING,
    maxBatchSize: env.SWITCHYARD_MAX_BATCH_SIZE,
    threads: env.SWITCHYARD_THREADS,
    seed: env.SWITCHYARD_SEED,
    predictorTraces: env.SWITCHYARD_PREDICTOR_TRACES,
    host: env.SWITCHYARD_HOST,
    port: env.SWITCHYARD_PORT,
    apiKeys: env.SWITCHYARD_API_KEYS,
    modelName: env.SWITCHYARD_MODEL_NAME,
    chat: env.SWITCHYARD_CHAT,
    maxBodyBytes: env.SWITCHYARD_MAX_BODY_BYTES,
    maxPromptTokens: env.SWITCHYARD_MAX_PROMPT_TOKENS,
    maxTokens: env.SWITCHYARD_MAX_TOKENS,
    rateLimitPerMinute: env.SWITCHYARD_RATE_LIMIT_PER_MINUTE,
    rateLimitBurst: env.SWITCHYARD_RATE_LIMIT_BURST,
    requestTimeoutMs: env.SWITCHYARD_REQUEST_TIMEOUT_MS,
    shutdownGraceMs: env.SWITCHYARD_SHUTDOWN_GRACE_MS,
    publicMetrics: env.SWITCHYARD_PUBLIC_METRICS,
    dataDir: env.SWITCHYARD_DATA_DIR,
  };
}

/**
 * The options of `serve` from layers of settings, later layers winning field by field (e.g. the
 * app's defaults, then the environment, then flags). Values are validated by `serve`'s schemas.
 */
export function servingConfiguration(...layers: readonly ServingSettings[]): {
  serving: ServingOptions;
  server: ServerOptions;
} {
  const settings: ServingSettings = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value !== undefined) (settings as Record<string, unknown>)[key] = value;
    }
  }
  if (settings.modelDir === undefined) {
    throw new ServingError({
      code: 'INVALID_CONFIG',
      message: 'no model directory was given',
      location: 'modelDir',
    });
  }
  const { replanIntervalMs: intervalMs, replanThreshold: driftThreshold } = settings;
  return {
    serving: {
      modelDir: settings.modelDir,
      target: settings.target,
      endpoint: settings.endpoint,
      planPath: settings.planPath,
      region: settings.region,
      adaptation: intervalMs === 0 ? false : { intervalMs, driftThreshold },
      batching: settings.batching,
      maxBatchSize: settings.maxBatchSize,
      threads: settings.threads,
      seed: settings.seed,
      predictorTraces: settings.predictorTraces,
    },
    server: {
      host: settings.host,
      port: settings.port,
      apiKeys: settings.apiKeys,
      modelName: settings.modelName,
      chat: settings.chat,
      maxBodyBytes: settings.maxBodyBytes,
      maxPromptTokens: settings.maxPromptTokens,
      maxTokens: settings.maxTokens,
      rateLimitPerMinute: settings.rateLimitPerMinute,
      rateLimitBurst: settings.rateLimitBurst,
      requestTimeoutMs: settings.requestTimeoutMs,
      shutdownGraceMs: settings.shutdownGraceMs,
      publicMetrics: settings.publicMetrics,
      dataDir: settings.dataDir,
    },
  };
}
