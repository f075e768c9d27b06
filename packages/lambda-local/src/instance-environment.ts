import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CpuCgroups } from './cpu-cgroup.js';
import { LambdaLocalError } from './errors.js';
import { functionEnv } from './protocol.js';
import { type NodeRuntime, nodeMajorOf } from './runtimes.js';

/** How an instance came to be: for an invoke, or ahead of any as provisioned concurrency. */
export type InitializationType = 'on-demand' | 'provisioned-concurrency';

/** What the runtime knows about the function an instance runs. */
export interface InstanceSpec {
  functionName: string;
  /** `$LATEST` or a published version number. */
  functionVersion: string;
  runtime: NodeRuntime;
  /** The `node` executable the instance runs on (the Node.js major of `runtime`, where configured). */
  nodeExecutable: string;
  /** That executable's Node.js major. */
  nodeMajor: number;
  /** The directory standing in for `/opt` (the function's layers), if it has layers. */
  optDir?: string;
  initializationType: InitializationType;
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
  /** `cpuEmulation: 'cgroup'`: the groups that hold the instance process to its memory's vCPU share. */
  cpuCgroups?: CpuCgroups;
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
 * The experimental Node.js features Lambda turns off per runtime (it disables `require()` of ES modules
 * on Node.js 20 and 22 and module-type detection on 22:
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html), so code that relies on them fails
 * here as it would there.
 */
const lambdaNodeFlags: Readonly<Record<NodeRuntime, readonly string[]>> = {
  'nodejs22.x': ['--no-experimental-require-module', '--no-experimental-detect-module'],
  'nodejs24.x': [],
};

/**
 * How an instance makes sure it never outlives its runtime's process: `pdeathsig` starts it through
 * util-linux's `setpriv --pdeathsig SIGKILL`, so the kernel kills it when the runtime's thread that
 * spawned it is gone (no cost inside the instance); `watch` preloads parent-watch.ts, a worker thread
 * that compares the parent pid once a second (about 12 MB of RSS per instance). `auto` takes
 * `pdeathsig` where `setpriv` exists (Linux), else `watch`.
 */
export type ParentDeathMode = 'pdeathsig' | 'watch';

/** util-linux's setpriv where this machine has it (every Debian/Ubuntu has util-linux). */
export function setprivPath(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  return ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path));
}

/**
 * Node flags of a function process. V8's heap gets 85 % of the memory size (so a JS leak dies as a
 * clean heap OOM); the rest is native memory (onnxruntime, Buffers), watched by the RSS poll. On the
 * runtime's own Node.js major, Lambda's flags for that runtime. When the runtime itself runs from
 * source, tsx's loader goes in front so a handler may re-export TypeScript. With `watch` (see
 * `ParentDeathMode`) the parent watch is preloaded.
 */
export function nodeArguments(
  spec: Pick<InstanceSpec, 'memoryMB' | 'runtime' | 'nodeMajor'>,
  parentDeath: ParentDeathMode = 'watch',
): string[] {
  const heapMB = Math.max(32, Math.floor(spec.memoryMB * 0.85));
  const lambdaFlags = spec.nodeMajor === nodeMajorOf(spec.runtime) ? lambdaNodeFlags[spec.runtime] : [];
  const source = fromSource
    ? [
        '--import',
        pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href,
        '--conditions=@switchyard/source',
      ]
    : [];
  const watch = parentDeath === 'watch' ? ['--import', parentWatchUrl()] : [];
  return [...lambdaFlags, ...source, ...watch, `--max-old-space-size=${heapMB}`];
}

/**
 * The command that starts an instance: `node <nodeArguments> <args>`, behind `setpriv --pdeathsig
 * SIGKILL` where that is the parent-death mode (`setpriv` execs node in the same process, so the pid
 * the runtime watches, limits and kills is node's).
 */
export function instanceCommand(
  spec: Pick<InstanceSpec, 'memoryMB' | 'runtime' | 'nodeMajor' | 'nodeExecutable'>,
  args: readonly string[],
  parentDeath: ParentDeathMode | 'auto' = 'auto',
): { command: string; args: string[]; parentDeath: ParentDeathMode } {
  const setpriv = parentDeath === 'watch' ? undefined : setprivPath();
  if (parentDeath === 'pdeathsig' && !setpriv)
    throw new LambdaLocalError({
      code: 'INVALID_CONFIG',
      message:
        "parent-death mode 'pdeathsig' needs util-linux's setpriv (/usr/bin/setpriv), which this machine lacks",
      location: 'instanceCommand',
    });
  if (setpriv) {
    return {
      command: setpriv,
      args: [
        '--pdeathsig',
        'SIGKILL',
        '--',
        spec.nodeExecutable,
        ...nodeArguments(spec, 'pdeathsig'),
        ...args,
      ],
      parentDeath: 'pdeathsig',
    };
  }
  return {
    command: spec.nodeExecutable,
    args: [...nodeArguments(spec, 'watch'), ...args],
    parentDeath: 'watch',
  };
}

/** The instance's parent-death check (parent-watch.ts), from TypeScript source under tsx or built. */
function parentWatchUrl(): string {
  return new URL(fromSource ? './parent-watch.ts' : './parent-watch.js', import.meta.url).href;
}

/** The own runner's entry file, from TypeScript source under tsx or the built file. */
export function ownRunnerEntry(): string {
  return fileURLToPath(
    new URL(fromSource ? './function-process.ts' : './function-process.js', import.meta.url),
  );
}

/**
 * Where Lambda's Node.js runtime looks for modules, with the function's code and its stand-in for
 * `/opt`: `NODE_PATH` lists `/opt/nodejs/node<major>/node_modules`, `/opt/nodejs/node_modules` (the
 * layer paths: https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html) and the task root.
 */
function nodePath(spec: InstanceSpec): string {
  const opt = spec.optDir
    ? [
        join(spec.optDir, 'nodejs', `node${nodeMajorOf(spec.runtime)}`, 'node_modules'),
        join(spec.optDir, 'nodejs', 'node_modules'),
      ]
    : [];
  return [...opt, spec.codeDir].join(delimiter);
}

/**
 * The environment of one instance's process: the function's own variables, then Lambda's (which a
 * function cannot override, as on Lambda), then the Switchyard extensions (`functionEnv`). With layers,
 * `PATH` and `LD_LIBRARY_PATH` start with the stand-in for `/opt`'s `bin` and `lib`, as Lambda's do.
 */
export function instanceEnvironment(
  spec: InstanceSpec,
  revision: number,
): Record<string, string | undefined> {
  const { functionName, region, optDir } = spec;
  const path = process.env.PATH ?? '/usr/bin:/bin';
  const libraryPath = process.env.LD_LIBRARY_PATH;
  return {
    PATH: optDir ? [join(optDir, 'bin'), path].join(delimiter) : path,
    LD_LIBRARY_PATH: optDir
      ? [join(optDir, 'lib'), ...(libraryPath ? [libraryPath] : [])].join(delimiter)
      : libraryPath,
    TZ: 'UTC',
    LANG: 'en_US.UTF-8',
    ...spec.environment,
    [functionEnv.handler]: spec.handler,
    [functionEnv.taskRoot]: spec.codeDir,
    [functionEnv.functionName]: functionName,
    [functionEnv.functionVersion]: spec.functionVersion,
    [functionEnv.memorySize]: String(spec.memoryMB),
    [functionEnv.region]: region,
    AWS_DEFAULT_REGION: region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${spec.runtime}`,
    AWS_LAMBDA_INITIALIZATION_TYPE: spec.initializationType,
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[${spec.functionVersion}]${revision}`,
    NODE_PATH: nodePath(spec),
    [functionEnv.threads]: String(spec.threads),
    // child_process leaves out variables whose value is undefined.
    [functionEnv.s3Endpoint]: spec.s3Endpoint,
    [functionEnv.optDir]: optDir,
  };
}
