import { type ChildProcess, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { type InstanceSpec, instanceCommand, instanceEnvironment } from './instance-environment.js';
import { MemoryWatchdog } from './memory-watchdog.js';
import { type ErrorBody, type FunctionToRuntime, functionArn } from './protocol.js';
import { openRuntimeApiChannel, openSocketPairChannel, type RunnerChannel } from './runner-channel.js';

/** Per-invocation context the Runtime API passes on as `Lambda-Runtime-*` headers. */
export interface InvocationContext {
  /** JSON text (the Invoke call's `X-Amz-Client-Context`, base64-decoded). */
  clientContext?: string;
  /** The ARN the Invoke call named (qualified for a version or an alias); the function's by default. */
  invokedFunctionArn?: string;
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

type SettledOutcome =
  | { kind: 'result'; payload: Uint8Array; durationMs: number }
  | ({ kind: 'error'; durationMs: number; fatal: boolean } & ErrorBody);

interface Pending {
  requestId: string;
  started: number;
  logs: string[];
  resolve: (outcome: InvocationOutcome) => void;
  timer: NodeJS.Timeout;
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
  /** Kept initialised by provisioned concurrency (not reclaimed when idle). */
  provisioned = false;
  /** INIT is over and succeeded. */
  ready = false;
  lastUsedMs = Date.now();
  private child: ChildProcess | undefined;
  private channel: RunnerChannel | undefined;
  private readonly watchdog: MemoryWatchdog;
  private pending: Pending | undefined;
  private exited = false;
  private exitDescription = 'unknown';
  private stderrTail = '';
  private initLogs: string[] = [];
  private exitWaiters: Array<() => void> = [];
  private onInitMessage: ((message: FunctionToRuntime | { type: 'exit' }) => void) | undefined;
  private releaseCgroup: (() => void) | undefined;

  constructor(spec: InstanceSpec, revision: number) {
    this.spec = spec;
    this.revision = revision;
    this.watchdog = new MemoryWatchdog(
      spec.memoryMB,
      () => (this.exited ? undefined : this.child?.pid),
      () => this.kill(),
    );
  }

  get alive(): boolean {
    return !this.exited;
  }

  get maxMemoryUsedMB(): number {
    return this.watchdog.maxMemoryUsedMB;
  }

  /** Starts the process and runs INIT; resolves when the handler module is loaded (or failed to). */
  async start(): Promise<InitOutcome> {
    const onMessage = (message: FunctionToRuntime): void => this.handleMessage(message);
    const channel =
      this.spec.runner === 'ric'
        ? await openRuntimeApiChannel(
            {
              ricBin: this.spec.ricBin,
              handler: this.spec.handler,
              maxResponseBytes: this.spec.maxResponseBytes,
            },
            onMessage,
          )
        : openSocketPairChannel(onMessage);
    this.channel = channel;
    const started = performance.now();
    const launch = instanceCommand(this.spec, channel.args);
    const child = spawn(launch.command, launch.args, {
      cwd: this.spec.codeDir,
      env: { ...instanceEnvironment(this.spec, this.revision), ...channel.environment },
      stdio: channel.stdio,
    });
    this.child = child;
    let limitError: string | undefined;
    if (this.spec.cpuCgroups && child.pid !== undefined) {
      try {
        this.releaseCgroup = this.spec.cpuCgroups.limit(child.pid, this.spec.memoryMB);
      } catch (error) {
        limitError = `could not hold the instance to its vCPU share in ${this.spec.cpuCgroups.directory}: ${(error as Error).message}`;
      }
    }
    channel.attach(child);
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => this.appendLog(chunk));
    child.stderr?.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4096);
      this.appendLog(chunk);
    });
    child.on('exit', (code, signal) => this.handleExit(code, signal));
    child.on('error', () => this.handleExit(null, null));
    this.watchdog.start(this.spec.memoryPollMs);
    if (limitError) {
      // Not limited means not measured as configured: the instance does not run.
      this.kill();
      return {
        kind: 'error',
        initDurationMs: 0,
        errorType: 'Runtime.CpuLimitFailed',
        errorMessage: limitError,
        logs: '',
      };
    }
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
          this.ready = true;
          finish({ kind: 'ready', initDurationMs: elapsed });
        } else if (message.type === 'init-error') {
          this.kill();
          finish({
            kind: 'error',
            initDurationMs: elapsed,
            errorType: message.errorType,
            errorMessage: message.errorMessage,
            trace: message.trace,
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
      this.pending = {
        requestId,
        started: performance.now(),
        logs: [],
        resolve,
        timer: setTimeout(() => {
          this.settle({
            kind: 'error',
            errorType: 'Sandbox.Timedout',
            errorMessage: `RequestId: ${requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
            durationMs: timeoutMs,
            fatal: true,
          });
          this.channel?.abandon();
          this.kill();
        }, timeoutMs),
      };
      if (this.exited) {
        this.settle({ kind: 'error', ...this.exitError(), durationMs: 0, fatal: true });
        return;
      }
      this.channel?.deliver({
        requestId,
        payload,
        deadlineMs: Date.now() + timeoutMs,
        invokedFunctionArn:
          context.invokedFunctionArn ?? functionArn(this.spec.region, this.spec.functionName),
        clientContext: context.clientContext,
      });
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

  private settle(outcome: SettledOutcome): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    this.watchdog.check();
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
      this.settle({ kind: 'result', payload: message.payload, durationMs: message.durationMs });
    } else {
      const { errorType, errorMessage, trace, durationMs } = message;
      this.settle({ kind: 'error', errorType, errorMessage, trace, durationMs, fatal: false });
    }
  }

  private exitError(): ErrorBody {
    const heapOom = /heap out of memory|Reached heap limit/i.test(this.stderrTail);
    if (this.watchdog.exceeded || heapOom) {
      this.watchdog.recordOutOfMemory();
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

  private handleExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exited) return;
    this.exited = true;
    this.exitDescription = signal
      ? `signal: ${signal.replace('SIG', '').toLowerCase()}`
      : `exit status ${code}`;
    this.watchdog.stop();
    this.releaseCgroup?.();
    this.releaseCgroup = undefined;
    const finish = (): void => {
      this.channel?.close();
      this.onInitMessage?.({ type: 'exit' });
      if (this.pending) {
        const elapsed = performance.now() - this.pending.started;
        this.settle({ kind: 'error', ...this.exitError(), durationMs: elapsed, fatal: true });
      }
      for (const waiter of this.exitWaiters.splice(0)) waiter();
    };
    // A runtime behind the Runtime API posts its error and then exits (uncaught exception, failed
    // INIT): the posted error, handled a few event-loop turns later, wins over "exited".
    if (this.channel?.outOfBand) setImmediate(() => setImmediate(() => setImmediate(finish)));
    else finish();
  }
}
