import { type Logger, lambdaLimits, type RandomSource } from '@switchyard/core';
import { z } from 'zod';

const credentialsSchema = z.object({ accessKeyId: z.string(), secretAccessKey: z.string() });
/** AWS region of the Lambda API (and of the code bucket). */
const regionSchema = z.string().min(1).default('us-east-1');

/** Options of `new LambdaExecutor(...)`. */
export const lambdaExecutorOptionsSchema = z.object({
  /** Endpoint of a Lambda-compatible API (the local runtime); omit for AWS. */
  endpoint: z.string().url().optional(),
  region: regionSchema,
  /** At most this many invokes in flight; further ones wait (also sizes the HTTP agent). */
  maxConcurrency: z.number().int().positive().default(64),
  /**
   * Attempts per invoke, including the first. Timeouts, connection errors and the retryable Invoke
   * errors (`invokeErrorRules`: throttles, ResourceConflict, service faults, …) try again.
   */
  maxAttempts: z.number().int().positive().default(4),
  /** Base of the full-jitter exponential backoff. */
  baseBackoffMs: z.number().nonnegative().default(50),
  maxBackoffMs: z.number().nonnegative().default(2000),
  /** Per-attempt timeout unless the request sets one. */
  timeoutMs: z.number().int().positive().default(60_000),
  /** Default qualifier (version or alias) for every invoke. */
  qualifier: z.string().optional(),
  /** Static credentials; the local runtime accepts any. Omit for the SDK's default chain on AWS. */
  credentials: credentialsSchema.optional(),
});

/**
 * What `new LambdaExecutor(...)` takes: the schema's input, plus what is not data — a logger, the
 * randomness of the backoff jitter (seeded by default) and an SDK client to use instead of its own.
 */
export type LambdaExecutorOptions = z.input<typeof lambdaExecutorOptionsSchema> & {
  logger?: Logger;
  random?: RandomSource;
  client?: import('@aws-sdk/client-lambda').LambdaClient;
};
/** The executor's options after defaults. */
export type ResolvedLambdaExecutorOptions = z.output<typeof lambdaExecutorOptionsSchema>;

/** Function timeout, in seconds (Lambda allows 1–900); 60 unless set. */
const timeoutSecondsSchema = z.number().int().min(1).max(lambdaLimits.maxTimeoutS).default(60);

/** Options of `deployPlan` that are data; `DeployOptions` adds the graphs, a client and a logger. */
export const deployOptionsSchema = z.object({
  target: z.enum(['local', 'aws']),
  /** Lambda API endpoint; for `local` without it, a runtime is started in process (and returned). */
  endpoint: z.string().url().optional(),
  region: regionSchema,
  /** Execution role (required for `aws` unless dry-run). */
  roleArn: z.string().min(1).optional(),
  /** Report what would change, change nothing. */
  dryRun: z.boolean().default(false),
  timeoutSeconds: timeoutSecondsSchema,
  /** Where local deployments stage their code (default `$TMPDIR/switchyard-deploy/<model>`). */
  stageDir: z.string().min(1).optional(),
  /** For `aws`: S3 bucket for zips over Lambda's 50 MB direct-upload limit. */
  codeBucket: z.string().min(1).optional(),
  credentials: credentialsSchema.optional(),
  /**
   * Delete functions of the same model that the plan does not name. A rollout that deploys a new plan
   * next to the one still serving passes false.
   */
  prune: z.boolean().default(true),
});

/** The expert graphs of one function: (layer, expert) → ONNX bytes (`buildExpertGraph` output). */
export type ExpertGraphSource = (layer: number, expert: number) => Uint8Array | Promise<Uint8Array>;

/** What `deployPlan` takes. */
export type DeployOptions = z.input<typeof deployOptionsSchema> & {
  /** ONNX bytes per (layer, expert), e.g. `(l, e) => buildExpertGraph(model, l, e)`. */
  graphs: ExpertGraphSource;
  client?: import('@aws-sdk/client-lambda').LambdaClient;
  /** Handler bundle bytes (default: `@switchyard/expert-function`'s built `dist/lambda/expert-function.mjs`). */
  handlerBundle?: Uint8Array;
  logger?: Logger;
};
export type ResolvedDeployOptions = z.output<typeof deployOptionsSchema>;

/** Options of `undeployPlan` that are data. */
export const undeployOptionsSchema = deployOptionsSchema
  .omit({ roleArn: true, timeoutSeconds: true, stageDir: true, codeBucket: true, prune: true })
  .extend({
    /** Delete exactly the functions the plan names (retiring one plan after a rollout), not every one of its model. */
    onlyPlanFunctions: z.boolean().default(false),
  });

/** What `undeployPlan` takes. */
export type UndeployOptions = z.input<typeof undeployOptionsSchema> & {
  client?: import('@aws-sdk/client-lambda').LambdaClient;
  logger?: Logger;
};
export type ResolvedUndeployOptions = z.output<typeof undeployOptionsSchema>;

/** Options of `samTemplate`. */
export const samTemplateOptionsSchema = z.object({ timeoutSeconds: timeoutSecondsSchema });
export type SamTemplateOptions = z.input<typeof samTemplateOptionsSchema>;

/** Options of `writeSamProject`. */
export const samProjectOptionsSchema = samTemplateOptionsSchema.extend({
  /** Directory that gets `template.yaml` and `functions/<group>/`. */
  outDir: z.string().min(1),
});
export type SamProjectOptions = z.input<typeof samProjectOptionsSchema> & {
  graphs: ExpertGraphSource;
  handlerBundle?: Uint8Array;
};
