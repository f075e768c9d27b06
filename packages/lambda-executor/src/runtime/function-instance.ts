import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { encodeFrame, frameReader } from './framing.js';
import type { ErrorBody, FunctionToRuntime, RuntimeToFunction } from './protocol.js';
import { functionEnv } from './protocol.js';
import { newTraceId, RuntimeApiServer } from './runtime-api.js';

/**
 * How a function instance runs its handler: `ric` — the official `aws-lambda-ric` process talking to
 * a per-instance Lambda Runtime API over loopback HTTP, as in a Lambda container image; `own` —
 * Switchyard's own runner (`function-process.ts`) over a socket pair.
 */
export type FunctionRunner = 'ric' | 'own';

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
  /** Lambda's INIT limit is 10 s. */
  initTimeoutMs: number;
  runner: FunctionRunner;
  /** For `runner: 'ric'`: the `aws-lambda-ric` executable (its `bin/index.mjs`). */
  ricBin?: string;
  /** Largest response a runtime may post (Lambda: 6 MB); over it → `Function.ResponseSizeTooLarge`. */
  maxResponseBytes: number;
}

/** Per-invocation context the Runtime API passes on as `Lambda-Runtime-*` headers. */
export interface InvocationContext {
  /** JSON text (the Invoke call's `X-Amz-Client-Context`, base64-decoded). */
  clientContext?: string;
}

export type InvocationOutcome =
  | { kind: 'result'; payload: Uint8Array; durationMs: number; logs: string; maxMemoryUsedMB: number }
  | ({
      kind: 'error';
      durationMs: number;
      logs: string;
      maxMemoryUsedMB: number;
      fatal: boolean;
    } & ErrorBody);

export type InitOutcome =
  | { kind: 'ready'; initDurationMs: number }
  | ({ kind: 'error'; initDurationMs: number; logs: string } & ErrorBody);

/** Node flags a function process needs: the tsx loader when the runtime itself runs from source. */
function sourceArgs(): string[] {
  if (!import.meta.url.endsWith('.ts')) return [];
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return ['--import', tsx, '--conditions=@switchyard/source'];
}

/** The own runner's entry file, from TypeScript source under tsx or the built file. */
function ownRunnerEntry(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  return fileURLToPath(
    new URL(fromSource ? './function-process.ts' : './function-process.js', import.meta.url),
  );
}

/** Reads current and peak resident set size of a process from /proc (Linux), in bytes. */
function readMemory(pid: number): { rssBytes: number; peakBytes: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+) kB/.exec(status);
    const peak = /VmHWM:\s+(\d+) kB/.exec(status);
    if (!rss || !peak) return undefined;
    return { rssBytes: Number(rss[1]) * 1024, peakBytes: Number(peak[1]) * 1024 };
  } catch {
    return undefined;
  }
}

interface Pending {
  requestId: string;
  started: number;
  logs: string[];
  resolve: (outcome: InvocationOutcome) => void;
  timer: NodeJS.Timeout;
  timeoutMs: number;
}

/**
 * One execution environment: its own Node.js process, one invocation at a time. A watchdog polls the
 * process's RSS and kills it (SIGKILL) once it exceeds the function's memory, as Lambda does; V8's
 * heap is capped below that with `--max-old-space-size` so most leaks fail as a clean heap OOM.
 */
export class FunctionInstance {
  readonly spec: InstanceSpec;
  readonly revision: number;
  busy = false;
  lastUsedMs = Date.now();
  private child: ChildProcess | undefined;
  private channel: Socket | undefined;
  private api: RuntimeApiServer | undefined;
  private pending: Pending | undefined;
  private exited = false;
  private oomKilled = false;
  private peakBytes = 0;
  private stderrTail = '';
  private initLogs: string[] = [];
  private watchdog: NodeJS.Timeout | undefined;
  private exitWaiters: Array<() => void> = [];
  private onInitMessage: ((message: FunctionToRuntime | { type: 'exit' }) => void) | undefined;

  constructor(spec: InstanceSpec, revision: number) {
    this.spec = spec;
    this.revision = revision;
  }

  get alive(): boolean {
    return !this.exited;
  }

  get maxMemoryUsedMB(): number {
    return Math.min(this.spec.memoryMB, Math.ceil(this.peakBytes / (1024 * 1024)));
  }

  /** Starts the process and runs INIT; resolves when the handler module is loaded (or failed to). */
  async start(): Promise<InitOutcome> {
    // V8 gets most of the memory; the rest is native (onnxruntime, buffers), watched by the RSS poll.
    const heapMB = Math.max(32, Math.floor(this.spec.memoryMB * 0.85));
    const { functionName, region } = this.spec;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      TZ: 'UTC',
      LANG: 'en_US.UTF-8',
      ...this.spec.environment,
      [functionEnv.handler]: this.spec.handler,
      [functionEnv.taskRoot]: this.spec.codeDir,
      [functionEnv.functionName]: functionName,
      [functionEnv.functionVersion]: '$LATEST',
      [functionEnv.memorySize]: String(this.spec.memoryMB),
      [functionEnv.region]: region,
      AWS_DEFAULT_REGION: region,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${this.revision}`,
      [functionEnv.threads]: String(this.spec.threads),
      ...(this.spec.s3Endpoint ? { [functionEnv.s3Endpoint]: this.spec.s3Endpoint } : {}),
    };
    const nodeArgs = [...sourceArgs(), `--max-old-space-size=${heapMB}`];
    let child: ChildProcess;
    let started: number;
    if (this.spec.runner === 'ric') {
      if (!this.spec.ricBin) throw new Error('runner ric needs ricBin');
      // Results arrive over HTTP, logs over stdout: let the stdout chunks that were written before a
      // response reach the log first (they are in the pipe already when the request is read).
      const later = (fn: () => void): void => {
        setImmediate(() => setImmediate(fn));
      };
      this.api = new RuntimeApiServer(
        {
          onFirstNext: () => this.handleMessage({ type: 'ready', initDurationMs: 0 }),
          onResponse: (requestId, payload, durationMs) =>
            later(() => this.handleMessage({ type: 'result', requestId, payload, durationMs })),
          onError: (requestId, error, durationMs) =>
            later(() => this.handleMessage({ type: 'error', requestId, durationMs, ...error })),
          onInitError: (error) =>
            later(() => this.handleMessage({ type: 'init-error', initDurationMs: 0, ...error })),
        },
        { maxResponseBytes: this.spec.maxResponseBytes },
      );
      env.AWS_LAMBDA_RUNTIME_API = await this.api.listen();
      started = performance.now();
      // `aws-lambda-ric <handler>`, with node flags in front (heap cap; tsx when running from source).
      child = spawn(process.execPath, [...nodeArgs, this.spec.ricBin, this.spec.handler], {
        cwd: this.spec.codeDir,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } else {
      started = performance.now();
      child = spawn(process.execPath, [...nodeArgs, ownRunnerEntry()], {
        cwd: this.spec.codeDir,
        env,
        // fd 3: a socket pair carrying length-prefixed frames both ways (framing.ts).
        stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      });
      this.channel = child.stdio[3] as Socket;
      this.channel.on(
        'data',
        frameReader((header, payload) =>
          this.handleMessage({ ...(header as FunctionToRuntime), payload } as FunctionToRuntime),
        ),
      );
      this.channel.on('error', () => {});
    }
    this.child = child;
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => this.appendLog(chunk));
    child.stderr?.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4096);
      this.appendLog(chunk);
    });
    child.on('exit', (code, signal) => this.handleExit(code, signal));
    child.on('error', () => this.handleExit(null, null));
    this.watchdog = setInterval(() => this.checkMemory(), this.spec.memoryPollMs);
    this.watchdog.unref();
    return new Promise<InitOutcome>((resolve) => {
      const timer = setTimeout(() => {
        this.kill();
        finish({
          kind: 'error',
          initDurationMs: performance.now() - started,
          errorType: 'Runtime.InitTimeout',
          errorMessage: `INIT phase exceeded ${this.spec.initTimeoutMs} ms`,
          logs: this.initLogs.join(''),
        });
      }, this.spec.initTimeoutMs);
      const finish = (outcome: InitOutcome): void => {
        clearTimeout(timer);
        this.onInitMessage = undefined;
        resolve(outcome);
      };
      this.onInitMessage = (message) => {
        const elapsed = performance.now() - started;
        if (message.type === 'ready') {
          // Init Duration covers process start + module load, as Lambda's covers runtime + handler init.
          finish({ kind: 'ready', initDurationMs: elapsed });
        } else if (message.type === 'init-error') {
          this.kill();
          finish({
            kind: 'error',
            initDurationMs: elapsed,
            errorType: message.errorType,
            errorMessage: message.errorMessage,
            ...(message.trace ? { trace: message.trace } : {}),
            logs: this.initLogs.join(''),
          });
        } else if (message.type === 'exit') {
          finish({
            kind: 'error',
            initDurationMs: elapsed,
            ...this.exitError(),
            logs: this.initLogs.join(''),
          });
        }
      };
    });
  }

  /** Runs one event; never rejects (crashes, timeouts and OOM come back as error outcomes). */
  invoke(
    requestId: string,
    payload: Uint8Array,
    timeoutMs: number,
    context: InvocationContext = {},
  ): Promise<InvocationOutcome> {
    this.busy = true;
    return new Promise<InvocationOutcome>((resolve) => {
      const pending: Pending = {
        requestId,
        started: performance.now(),
        logs: [],
        resolve,
        timeoutMs,
        timer: setTimeout(() => {
          this.settle({
            kind: 'error',
            errorType: 'Sandbox.Timedout',
            errorMessage: `RequestId: ${requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
            durationMs: timeoutMs,
            fatal: true,
          });
          this.api?.abandon();
          this.kill();
        }, timeoutMs),
      };
      this.pending = pending;
      if (this.exited) {
        this.settle({ kind: 'error', ...this.exitError(), durationMs: 0, fatal: true });
        return;
      }
      const deadlineMs = Date.now() + timeoutMs;
      if (this.api) {
        this.api.deliver({
          requestId,
          payload,
          deadlineMs,
          invokedFunctionArn: `arn:aws:lambda:${this.spec.region}:000000000000:function:${this.spec.functionName}`,
          traceId: newTraceId(),
          ...(context.clientContext ? { clientContext: context.clientContext } : {}),
        });
        return;
      }
      const header: Omit<RuntimeToFunction, 'payload'> = {
        type: 'invoke',
        requestId,
        deadlineMs,
        ...(context.clientContext ? { clientContext: context.clientContext } : {}),
      };
      for (const part of encodeFrame(header, payload)) this.channel?.write(part);
    });
  }

  kill(): void {
    if (this.exited || !this.child) return;
    this.child.kill('SIGKILL');
  }

  /** Kills the process and waits (bounded) for it to be gone. */
  async stop(waitMs = 2000): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
    this.kill();
    await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, waitMs).unref())]);
  }

  private appendLog(text: string): void {
    if (this.pending) this.pending.logs.push(text);
    else if (this.onInitMessage) this.initLogs.push(text);
  }

  private settle(
    outcome:
      | { kind: 'result'; payload: Uint8Array; durationMs: number }
      | ({ kind: 'error'; durationMs: number; fatal: boolean } & ErrorBody),
  ): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    this.checkMemory();
    this.busy = false;
    this.lastUsedMs = Date.now();
    pending.resolve({ ...outcome, logs: pending.logs.join(''), maxMemoryUsedMB: this.maxMemoryUsedMB });
  }

  private handleMessage(message: FunctionToRuntime): void {
    if (message.type === 'log') {
      this.appendLog(message.text);
      return;
    }
    if (message.type === 'ready' || message.type === 'init-error') {
      this.onInitMessage?.(message);
      return;
    }
    if (!this.pending || message.requestId !== this.pending.requestId) return;
    if (message.type === 'result') {
      this.settle({
        kind: 'result',
        payload: message.payload,
        durationMs: message.durationMs,
      });
    } else {
      const { errorType, errorMessage, trace } = message;
      this.settle({
        kind: 'error',
        errorType,
        errorMessage,
        ...(trace ? { trace } : {}),
        durationMs: message.durationMs,
        fatal: false,
      });
    }
  }

  private exitError(): ErrorBody {
    const heapOom = /heap out of memory|Reached heap limit/i.test(this.stderrTail);
    if (this.oomKilled || heapOom) {
      this.peakBytes = Math.max(this.peakBytes, this.spec.memoryMB * 1024 * 1024);
      return {
        errorType: 'Runtime.OutOfMemory',
        errorMessage: `RequestId: ${this.pending?.requestId ?? ''} Error: Runtime exited with error: ${heapOom ? 'signal: aborted' : 'signal: killed'}`,
      };
    }
    return {
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${this.pending?.requestId ?? ''} Error: Runtime exited with error: ${this.exitDescription}`,
    };
  }

  private exitDescription = 'unknown';

  private handleExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exited) return;
    this.exited = true;
    this.exitDescription = signal
      ? `signal: ${signal.replace('SIG', '').toLowerCase()}`
      : `exit status ${code}`;
    if (this.watchdog) clearInterval(this.watchdog);
    const finish = (): void => {
      this.api?.close();
      this.onInitMessage?.({ type: 'exit' });
      if (this.pending) {
        const elapsed = performance.now() - this.pending.started;
        this.settle({ kind: 'error', ...this.exitError(), durationMs: elapsed, fatal: true });
      }
      for (const waiter of this.exitWaiters.splice(0)) waiter();
    };
    // Under the Runtime API a runtime posts its error and then exits (uncaught exception, failed
    // INIT): the posted error, handled a few event-loop turns later, wins over "exited".
    if (this.api) setImmediate(() => setImmediate(() => setImmediate(finish)));
    else finish();
  }

  private checkMemory(): void {
    if (this.exited || !this.child?.pid) return;
    const memory = readMemory(this.child.pid);
    if (!memory) return;
    this.peakBytes = Math.max(this.peakBytes, memory.peakBytes);
    if (memory.rssBytes > this.spec.memoryMB * 1024 * 1024) {
      this.oomKilled = true;
      this.kill();
    }
  }
}
