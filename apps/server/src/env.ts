import { SwitchyardError } from '@switchyard/core';
import { z } from 'zod';
import type { ServerOptionsInput } from './options.js';

const integer = z.coerce.number().int();
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** The only place the server reads process.env. Every variable is optional; defaults live in options.ts. */
export const serverEnvSchema = z.object({
  SWITCHYARD_HOST: z.string().min(1).optional(),
  SWITCHYARD_PORT: integer.min(0).max(65_535).optional(),
  /** Comma-separated bearer tokens. */
  SWITCHYARD_API_KEYS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((key) => key.trim())
        .filter((key) => key.length > 0),
    )
    .optional(),
  SWITCHYARD_MODEL_DIR: z.string().min(1).optional(),
  SWITCHYARD_MODEL_NAME: z.string().min(1).optional(),
  SWITCHYARD_MAX_BODY_BYTES: integer.positive().optional(),
  SWITCHYARD_MAX_PROMPT_TOKENS: integer.positive().optional(),
  SWITCHYARD_MAX_TOKENS: integer.positive().optional(),
  SWITCHYARD_RATE_LIMIT_PER_MINUTE: z.coerce.number().nonnegative().optional(),
  SWITCHYARD_RATE_LIMIT_BURST: integer.positive().optional(),
  SWITCHYARD_REQUEST_TIMEOUT_MS: integer.positive().optional(),
  SWITCHYARD_SHUTDOWN_GRACE_MS: integer.nonnegative().optional(),
  SWITCHYARD_PUBLIC_METRICS: flag.optional(),
  /** `continuous` (default) or `sequential` (one request at a time, for comparison). */
  SWITCHYARD_BATCHING: z.enum(['continuous', 'sequential']).default('continuous'),
  SWITCHYARD_MAX_BATCH_SIZE: integer.positive().default(32),
  /** onnxruntime intra-op threads for the model. */
  SWITCHYARD_THREADS: integer.positive().optional(),
  SWITCHYARD_SEED: integer.min(0).optional(),
  /** Comma-separated routing traces to fit the online expert-popularity predictor on. */
  SWITCHYARD_PREDICTOR_TRACES: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((path) => path.trim())
        .filter((path) => path.length > 0),
    )
    .optional(),
  /** Where routed experts run: `in-process` (default), `local` (embedded Lambda runtime) or `aws`. */
  SWITCHYARD_TARGET: z.enum(['in-process', 'local', 'aws']).default('in-process'),
  /** Lambda API endpoint for `local` (default: start the runtime in process). */
  SWITCHYARD_LAMBDA_ENDPOINT: z.string().url().optional(),
  /** Deployment plan JSON for `local`/`aws` (default: one function per expert). */
  SWITCHYARD_PLAN: z.string().min(1).optional(),
  /** AWS region for `aws`. */
  SWITCHYARD_AWS_REGION: z.string().min(1).optional(),
  SWITCHYARD_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
});

export type ServerEnv = z.output<typeof serverEnvSchema>;

export function readServerEnv(source: NodeJS.ProcessEnv = process.env): ServerEnv {
  const result = serverEnvSchema.safeParse(source);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new SwitchyardError({
    code: 'INVALID_CONFIG',
    message: `${issue.message}`,
    location: `environment variable ${issue.path.join('.')}`,
    cause: result.error,
  });
}

/** The server options the environment sets (unset variables stay undefined, so defaults apply). */
export function serverOptionsFromEnv(env: ServerEnv): ServerOptionsInput {
  const options: ServerOptionsInput = {
    host: env.SWITCHYARD_HOST,
    port: env.SWITCHYARD_PORT,
    apiKeys: env.SWITCHYARD_API_KEYS,
    modelName: env.SWITCHYARD_MODEL_NAME,
    maxBodyBytes: env.SWITCHYARD_MAX_BODY_BYTES,
    maxPromptTokens: env.SWITCHYARD_MAX_PROMPT_TOKENS,
    maxTokens: env.SWITCHYARD_MAX_TOKENS,
    rateLimitPerMinute: env.SWITCHYARD_RATE_LIMIT_PER_MINUTE,
    rateLimitBurst: env.SWITCHYARD_RATE_LIMIT_BURST,
    requestTimeoutMs: env.SWITCHYARD_REQUEST_TIMEOUT_MS,
    shutdownGraceMs: env.SWITCHYARD_SHUTDOWN_GRACE_MS,
    publicMetrics: env.SWITCHYARD_PUBLIC_METRICS,
  };
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as ServerOptionsInput;
}
