/**
 * The environment variables an expert function reads. Lambda's are its documented runtime variables
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html); Switchyard's are optional
 * settings a deployment or a runtime may give (`@switchyard/lambda-local` sets `SWITCHYARD_VCPU_THREADS`
 * and `SWITCHYARD_S3_ENDPOINT` for every function it runs). Nothing else about the runtime is assumed.
 */
export const expertFunctionEnvironmentVariables = {
  /** Lambda: the function's code directory, where the manifest is by default. */
  taskRoot: 'LAMBDA_TASK_ROOT',
  /** Lambda: the function's memory size in MB (its vCPU share follows from it). */
  memorySize: 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  /** Lambda: the region, for the S3 client. */
  region: 'AWS_REGION',
  /** Switchyard: path of the manifest, instead of `$LAMBDA_TASK_ROOT/switchyard-experts.json`. */
  manifest: 'SWITCHYARD_EXPERT_MANIFEST',
  /** Switchyard: onnxruntime threads, instead of the memory's vCPU share. */
  threads: 'SWITCHYARD_VCPU_THREADS',
  /** Switchyard: an S3-compatible endpoint (path style, any credentials) instead of AWS's. */
  s3Endpoint: 'SWITCHYARD_S3_ENDPOINT',
} as const;

/** The environment a function reads, e.g. `process.env`. */
export type ExpertFunctionEnvironment = Readonly<Record<string, string | undefined>>;
