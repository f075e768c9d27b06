import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { functionEnv } from './protocol.js';

/** What the runtime knows about the function an instance runs. */
export interface InstanceSpec {
  functionName: string;
  memoryMB: number;
  handler: string;
  codeDir: string;
  environment: Record<string, string>;
  threads: number;
  region: string;
  s3Endpoint?: string;
  /** Poll interval of the RSS watchdog. */
  memoryPollMs: number;
  /** Lambda's INIT limit (10 s there). */
  initTimeoutMs: number;
  runner: FunctionRunner;
  /** For `runner: 'ric'`: the `aws-lambda-ric` executable (its `bin/index.mjs`). */
  ricBin?: string;
  /** Largest response a runtime may post (Lambda: 6 MB); over it → `Function.ResponseSizeTooLarge`. */
  maxResponseBytes: number;
}

/**
 * How a function instance runs its handler: `ric` — the official `aws-lambda-ric` process talking to
 * a per-instance Lambda Runtime API over loopback HTTP, as in a Lambda container image; `own` —
 * Switchyard's own runner (`function-process.ts`) over a socket pair.
 */
export type FunctionRunner = 'ric' | 'own';

/** Whether this module runs from TypeScript source (under tsx or vitest) rather than from dist. */
const fromSource = import.meta.url.endsWith('.ts');

/**
 * Node flags of a function process. V8's heap gets 85 % of the memory size (so a JS leak dies as a
 * clean heap OOM); the rest is native memory (onnxruntime, Buffers), watched by the RSS poll. When the
 * runtime itself runs from source, tsx's loader goes in front so a handler may re-export TypeScript.
 */
export function nodeArguments(memoryMB: number): string[] {
  const heapMB = Math.max(32, Math.floor(memoryMB * 0.85));
  const source = fromSource
    ? [
        '--import',
        pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href,
        '--conditions=@switchyard/source',
      ]
    : [];
  return [...source, `--max-old-space-size=${heapMB}`];
}

/** The own runner's entry file, from TypeScript source under tsx or the built file. */
export function ownRunnerEntry(): string {
  return fileURLToPath(
    new URL(fromSource ? './function-process.ts' : './function-process.js', import.meta.url),
  );
}

/**
 * The environment of one instance's process: the function's own variables, then Lambda's (which a
 * function cannot override, as on Lambda), then the Switchyard extensions (`functionEnv`).
 */
export function instanceEnvironment(
  spec: InstanceSpec,
  revision: number,
): Record<string, string | undefined> {
  const { functionName, region } = spec;
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    TZ: 'UTC',
    LANG: 'en_US.UTF-8',
    ...spec.environment,
    [functionEnv.handler]: spec.handler,
    [functionEnv.taskRoot]: spec.codeDir,
    [functionEnv.functionName]: functionName,
    [functionEnv.functionVersion]: '$LATEST',
    [functionEnv.memorySize]: String(spec.memoryMB),
    [functionEnv.region]: region,
    AWS_DEFAULT_REGION: region,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${revision}`,
    [functionEnv.threads]: String(spec.threads),
    // child_process leaves out variables whose value is undefined.
    [functionEnv.s3Endpoint]: spec.s3Endpoint,
  };
}
