import { type Logger, lambdaLimits, type RandomSource } from '@switchyard/core';
import { z } from 'zod';
import { liveAlias } from './deploy/deployment-names.js';

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
  /**
   * Per-attempt timeout unless the request sets one. Without it, each function's own: its configured
   * `Timeout` plus Lambda's INIT limit and 5 s (read once per function and qualifier with
   * GetFunctionConfiguration; Lambda's longest, 900 s + INIT + 5 s, when that cannot be read). An
   * attempt must not give up while Lambda may still be running its invocation: the retry would find
   * that instance busy, so another instance would start (on Lambda as on the embedded runtime) and a
   * slow cold start would pile up instances.
   */
  timeoutMs: z.number().int().positive().optional(),
  /**
   * Qualifier (alias or version) of every invoke a request does not qualify itself: the `live` alias
   * each deployment points at the version it published; `$LATEST` for functions without one.
   */
  qualifier: z.string().min(1).default(liveAlias),
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

/**
 * The Node.js runtimes expert functions are created with (architecture/aws-lambda-facts.md):
 * `nodejs22.x` by default, `nodejs24.x` by option. `nodejs20.x` is gone: Lambda deprecated it on
 * 2026-04-30 and blocks creating functions on it from 2026-06-01.
 */
export const functionRuntimes = ['nodejs22.x', 'nodejs24.x'] as const;
export type FunctionRuntime = (typeof functionRuntimes)[number];
const runtimeSchema = z.enum(functionRuntimes).default('nodejs22.x');

/** S3 bucket names: 3–63 of a–z 0–9 . -, starting and ending with a letter or digit. */
const bucketSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'S3 bucket names are 3–63 of a–z 0–9 . - (no upper case)');
/** A key prefix inside the bucket, e.g. `switchyard/`; normalised to end in `/` unless empty. */
const prefixSchema = z
  .string()
  .refine((prefix) => !prefix.startsWith('/'), 'an S3 key prefix does not start with /')
  .default('')
  .transform((prefix) => (prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`));

/**
 * How control-plane calls wait and retry: `ResourceConflictException` (an update still in progress)
 * and `TooManyRequestsException` are retried with exponential backoff; after CreateFunction,
 * UpdateFunctionCode and UpdateFunctionConfiguration the SDK's waiters wait for the function.
 */
export const controlPlaneSchema = z
  .object({
    /** Attempts per call, including the first. */
    maxAttempts: z.number().int().positive().default(8),
    baseBackoffMs: z.number().nonnegative().default(250),
    maxBackoffMs: z.number().nonnegative().default(10_000),
    /** The longest a waiter waits for a function to become Active or finish an update. */
    waitTimeoutSeconds: z.number().int().positive().default(300),
    /** A waiter's first pause between polls (it doubles, with jitter, up to 5 s). */
    waitMinDelaySeconds: z.number().positive().max(5).default(1),
    /**
     * How long CreateFunction keeps retrying "the role cannot be assumed" for a role this deployment
     * just created (IAM changes take seconds to reach Lambda).
     */
    rolePropagationSeconds: z.number().nonnegative().default(60),
  })
  .prefault({});
export type ControlPlaneOptions = z.output<typeof controlPlaneSchema>;

/** The AWS SDK clients a deployment uses; each is made from the options unless given. */
export interface DeploymentClients {
  lambda?: import('@aws-sdk/client-lambda').LambdaClient;
  s3?: import('@aws-sdk/client-s3').S3Client;
  iam?: import('@aws-sdk/client-iam').IAMClient;
  sts?: import('@aws-sdk/client-sts').STSClient;
}

/** Where a deployment's AWS resources are: the target, endpoint, region, credentials, weights bucket. */
const targetSchema = z.object({
  target: z.enum(['local', 'aws']),
  /**
   * Endpoint of every AWS API the deployment calls (Lambda, S3, IAM, STS), e.g. a moto server; for
   * `local` the embedded runtime's Lambda API (without it, a runtime is started in process).
   */
  endpoint: z.string().url().optional(),
  /** S3 endpoint when it differs from `endpoint` (the embedded runtime serves S3 on its own port). */
  s3Endpoint: z.string().url().optional(),
  region: regionSchema,
  credentials: credentialsSchema.optional(),
  /** Report what would change, change nothing. */
  dryRun: z.boolean().default(false),
  /** S3 bucket for the expert graphs (uploaded once, content-addressed; functions read them at INIT). */
  bucket: bucketSchema.optional(),
  /** Key prefix inside `bucket`; objects go under `<prefix><model>/`. */
  prefix: prefixSchema,
  controlPlane: controlPlaneSchema,
});

/** Options of `deployPlan` that are data; `DeployOptions` adds the graphs, clients and a logger. */
export const deployOptionsSchema = targetSchema
  .extend({
    /** Execution role of new functions (AWS: required unless `createRole` or a dry run). */
    roleArn: z.string().min(1).optional(),
    /**
     * Create (or keep up to date) a least-privilege execution role for this deployment: CloudWatch
     * Logs for its functions' log groups and `s3:GetObject` on the weights prefix only.
     */
    createRole: z.boolean().default(false),
    runtime: runtimeSchema,
    /** With `dryRun` on `aws`: plan without calling AWS at all (every function counts as new). */
    offline: z.boolean().default(false),
    timeoutSeconds: timeoutSecondsSchema,
    /** Where local deployments stage their code (default `$TMPDIR/switchyard-deploy/<model>`). */
    stageDir: z.string().min(1).optional(),
    /**
     * For `local`: `directory` runs the handler from this checkout in place (the default); `zip` deploys
     * exactly what AWS gets — function zips, the runtime layer, the built handler bundle.
     */
    localPackaging: z.enum(['directory', 'zip']).default('directory'),
    /** For `aws`: S3 bucket for zips over Lambda's 50 MB direct-upload limit (default: `bucket`). */
    codeBucket: bucketSchema.optional(),
    /**
     * Delete functions of the same model that the plan does not name. A rollout that deploys a new plan
     * next to the one still serving passes false.
     */
    prune: z.boolean().default(true),
    /**
     * Publish each changed function's new version but leave an existing `live` alias on the version
     * that serves now (`DeployAction.version` / `liveVersion` say which): a rollout then moves it with
     * `routeLiveAlias`, weighted while the new versions warm. New functions get `live` either way.
     */
    stageLive: z.boolean().default(false),
  })
  .superRefine((options, context) => {
    if (options.createRole && options.roleArn) {
      context.addIssue({
        code: 'custom',
        message: 'pass either roleArn (--role-arn) or createRole (--create-role), not both',
        path: ['createRole'],
      });
    }
  });

/** The expert graphs of one function: (layer, expert) → ONNX bytes (`buildExpertGraph` output). */
export type ExpertGraphSource = (layer: number, expert: number) => Uint8Array | Promise<Uint8Array>;

/** What `deployPlan` takes. */
export type DeployOptions = z.input<typeof deployOptionsSchema> & {
  /** ONNX bytes per (layer, expert), e.g. `(l, e) => buildExpertGraph(model, l, e)`. */
  graphs: ExpertGraphSource;
  /** The Lambda client (kept for callers of the single-client form; `clients.lambda` is the same). */
  client?: import('@aws-sdk/client-lambda').LambdaClient;
  clients?: DeploymentClients;
  /** Handler bundle bytes (default: `@switchyard/expert-function`'s built `dist/lambda/expert-function.mjs`). */
  handlerBundle?: Uint8Array;
  /** Randomness of the retry backoff's jitter (seeded by default). */
  random?: RandomSource;
  logger?: Logger;
};
export type ResolvedDeployOptions = z.output<typeof deployOptionsSchema>;

/** Options of `undeployPlan` that are data. */
export const undeployOptionsSchema = targetSchema.extend({
  /** Delete exactly the functions the plan names (retiring one plan after a rollout), not every one of its model. */
  onlyPlanFunctions: z.boolean().default(false),
});

/** What `undeployPlan` takes. */
export type UndeployOptions = z.input<typeof undeployOptionsSchema> & {
  client?: import('@aws-sdk/client-lambda').LambdaClient;
  clients?: DeploymentClients;
  random?: RandomSource;
  logger?: Logger;
};
export type ResolvedUndeployOptions = z.output<typeof undeployOptionsSchema>;

/** Options of `doctorAwsTarget`: the account, region, role and bucket a deployment would use. */
export const doctorOptionsSchema = targetSchema.omit({ target: true, dryRun: true }).extend({
  roleArn: z.string().min(1).optional(),
  createRole: z.boolean().default(false),
  runtime: runtimeSchema,
});

/** What `doctorAwsTarget` takes; `graphs` is needed to check a plan (its packages are built, not uploaded). */
export type DoctorOptions = z.input<typeof doctorOptionsSchema> & {
  graphs?: ExpertGraphSource;
  handlerBundle?: Uint8Array;
  clients?: DeploymentClients;
  logger?: Logger;
};

/** Options of `samTemplate`: what `deployPlan` would be given for the same functions. */
export const samTemplateOptionsSchema = z.object({
  timeoutSeconds: timeoutSecondsSchema,
  runtime: runtimeSchema,
  /** The functions' execution role; without it the template declares the role `createRole` makes. */
  roleArn: z.string().min(1).optional(),
});
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
