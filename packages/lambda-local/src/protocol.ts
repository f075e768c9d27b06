/**
 * What passes between the local runtime and a function process: the environment it starts with, and
 * (own runner) the messages framed over its socket pair (framing.ts).
 */

export interface InvokeMessage {
  type: 'invoke';
  requestId: string;
  /** The event, as JSON text bytes. */
  payload: Uint8Array;
  /** Epoch ms at which the runtime times the invocation out. */
  deadlineMs: number;
  /** JSON text of the Invoke call's client context, if any. */
  clientContext?: string;
  /** The ARN the Invoke call named (qualified when it named a version or an alias). */
  invokedFunctionArn: string;
}

export type RuntimeToFunction = InvokeMessage;

export interface ErrorBody {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

export type FunctionToRuntime =
  | { type: 'ready'; initDurationMs: number }
  | ({ type: 'init-error'; initDurationMs: number } & ErrorBody)
  | { type: 'log'; text: string }
  | { type: 'result'; requestId: string; payload: Uint8Array; durationMs: number }
  | ({ type: 'error'; requestId: string; durationMs: number } & ErrorBody);

/**
 * Environment variables the runtime sets for a function process: Lambda's documented ones
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html), plus three Switchyard
 * extensions any handler may read.
 */
export const functionEnv = {
  handler: '_HANDLER',
  taskRoot: 'LAMBDA_TASK_ROOT',
  functionName: 'AWS_LAMBDA_FUNCTION_NAME',
  functionVersion: 'AWS_LAMBDA_FUNCTION_VERSION',
  memorySize: 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  region: 'AWS_REGION',
  runtimeApi: 'AWS_LAMBDA_RUNTIME_API',
  /** Switchyard: threads the handler should give its compute library (vcpu.ts). */
  threads: 'SWITCHYARD_VCPU_THREADS',
  /** Switchyard: endpoint of the embedded S3 API, for handlers that load objects from it. */
  s3Endpoint: 'SWITCHYARD_S3_ENDPOINT',
  /** Switchyard: the directory that stands in for `/opt` (the function's layers); unset on Lambda. */
  optDir: 'SWITCHYARD_OPT_DIR',
} as const;

/** The account every ARN of the runtime names (the emulator has no accounts). */
export const localAccountId = '000000000000';

/** The ARN of a function, or of one of its versions or aliases when `qualifier` is given. */
export function functionArn(region: string, functionName: string, qualifier?: string): string {
  const arn = `arn:aws:lambda:${region}:${localAccountId}:function:${functionName}`;
  return qualifier === undefined ? arn : `${arn}:${qualifier}`;
}

/** The ARN of a layer, or of one of its versions when `version` is given. */
export function layerArn(region: string, layerName: string, version?: number): string {
  const arn = `arn:aws:lambda:${region}:${localAccountId}:layer:${layerName}`;
  return version === undefined ? arn : `${arn}:${version}`;
}
