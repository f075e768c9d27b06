import type { ChildProcess, StdioOptions } from 'node:child_process';
import type { Socket } from 'node:net';
import { LambdaLocalError } from './errors.js';
import { encodeFrame, frameReader } from './framing.js';
import { ownRunnerEntry } from './instance-environment.js';
import { type FunctionToRuntime, functionEnv, type RuntimeToFunction } from './protocol.js';
import { newTraceId, RuntimeApiServer } from './runtime-api.js';

/** One event, as the runtime hands it to a function process. */
export interface ChannelInvocation {
  requestId: string;
  payload: Uint8Array;
  /** Epoch ms at which the invocation times out. */
  deadlineMs: number;
  invokedFunctionArn: string;
  /** JSON text (the Invoke call's `X-Amz-Client-Context`, base64-decoded). */
  clientContext?: string;
}

/**
 * How the runtime talks to one function process, per runner: what to start, how events go in and how
 * results, errors and INIT outcomes come back (as `FunctionToRuntime` messages).
 */
export interface RunnerChannel {
  /** The process's arguments after node's own flags. */
  readonly args: readonly string[];
  readonly stdio: StdioOptions;
  /** Variables the channel adds to the process's environment. */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Results arrive outside the process's stdout (over HTTP), and a runtime posts its error before it
   * exits: the owner handles an exit a few event-loop turns late so a posted error wins over "exited".
   */
  readonly outOfBand: boolean;
  /** Connects to the started process. */
  attach(child: ChildProcess): void;
  deliver(invocation: ChannelInvocation): void;
  /** Forgets the invocation in flight (it timed out or its process died). */
  abandon(): void;
  close(): void;
}

type OnMessage = (message: FunctionToRuntime) => void;

/**
 * `ric`: `aws-lambda-ric <handler>` against its own Lambda Runtime API server on loopback
 * (`AWS_LAMBDA_RUNTIME_API`). INIT ends at the first `invocation/next`.
 */
export async function openRuntimeApiChannel(
  options: { ricBin: string | undefined; handler: string; maxResponseBytes: number },
  onMessage: OnMessage,
): Promise<RunnerChannel> {
  const { ricBin } = options;
  if (!ricBin) {
    throw new LambdaLocalError({
      code: 'INTERNAL',
      message: "runner 'ric' needs the aws-lambda-ric executable",
      location: 'ricBin',
    });
  }
  // Results arrive over HTTP, logs over stdout: let the stdout chunks that were written before a
  // response reach the log first (they are in the pipe already when the request is read).
  const later = (fn: () => void): void => {
    setImmediate(() => setImmediate(fn));
  };
  const api = new RuntimeApiServer(
    {
      onFirstNext: () => onMessage({ type: 'ready', initDurationMs: 0 }),
      onResponse: (requestId, payload, durationMs) =>
        later(() => onMessage({ type: 'result', requestId, payload, durationMs })),
      onError: (requestId, error, durationMs) =>
        later(() => onMessage({ type: 'error', requestId, durationMs, ...error })),
      onInitError: (error) => later(() => onMessage({ type: 'init-error', initDurationMs: 0, ...error })),
    },
    { maxResponseBytes: options.maxResponseBytes },
  );
  const address = await api.listen();
  return {
    args: [ricBin, options.handler],
    stdio: ['ignore', 'pipe', 'pipe'],
    environment: { [functionEnv.runtimeApi]: address },
    outOfBand: true,
    attach: () => {},
    deliver: (invocation) => api.deliver({ ...invocation, traceId: newTraceId() }),
    abandon: () => api.abandon(),
    close: () => api.close(),
  };
}

/**
 * `own`: Switchyard's runner (`function-process.ts`), with events and messages as length-prefixed
 * frames on a socket pair (stdio fd 3, framing.ts).
 */
export function openSocketPairChannel(onMessage: OnMessage): RunnerChannel {
  let socket: Socket | undefined;
  return {
    args: [ownRunnerEntry()],
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    environment: {},
    outOfBand: false,
    attach: (child) => {
      socket = child.stdio[3] as Socket;
      socket.on(
        'data',
        frameReader((header, payload) =>
          onMessage({ ...(header as FunctionToRuntime), payload } as FunctionToRuntime),
        ),
      );
      socket.on('error', () => {});
    },
    deliver: ({ requestId, payload, deadlineMs, clientContext, invokedFunctionArn }) => {
      const header: Omit<RuntimeToFunction, 'payload'> = {
        type: 'invoke',
        requestId,
        deadlineMs,
        clientContext,
        invokedFunctionArn,
      };
      for (const part of encodeFrame(header, payload)) socket?.write(part);
    },
    abandon: () => {},
    close: () => {},
  };
}
