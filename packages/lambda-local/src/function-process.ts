/**
 * Entry point of one function instance (an OS process started by the local runtime). It plays the
 * part of Lambda's Node.js runtime: loads the handler module once (the INIT phase), then runs one
 * event at a time, Node-Lambda style (JSON event in, JSON result out), and sends logs, results and
 * errors back over the IPC channel. It imports nothing from Switchyard so it starts fast.
 */
import { existsSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { encodeFrame, frameReader } from './framing.js';
import type { ErrorBody, FunctionToRuntime, InvokeMessage } from './protocol.js';

type Handler = (event: unknown, context: Record<string, unknown>, callback?: unknown) => unknown;

// fd 3 is a socket pair with the runtime (see framing.ts); payload bytes travel outside the JSON header.
const channel = new Socket({ fd: 3, readable: true, writable: true });

const send = (message: FunctionToRuntime, done?: () => void): void => {
  const { payload, ...header } = message as FunctionToRuntime & { payload?: Uint8Array };
  const parts = encodeFrame(header, payload);
  for (let i = 0; i < parts.length; i++) {
    channel.write(parts[i] as Buffer, i === parts.length - 1 ? done : undefined);
  }
};

let currentRequestId: string | undefined;

function patchConsole(): void {
  const levels = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG', trace: 'TRACE' };
  for (const [method, level] of Object.entries(levels)) {
    (console as unknown as Record<string, unknown>)[method] = (...args: unknown[]): void => {
      const text = `${new Date().toISOString()}\t${currentRequestId ?? 'undefined'}\t${level}\t${format(...args)}\n`;
      send({ type: 'log', text });
    };
  }
}

function errorBody(error: unknown, fallbackType = 'Error'): ErrorBody {
  if (error instanceof Error) {
    return {
      errorType: error.name || fallbackType,
      errorMessage: error.message,
      trace: (error.stack ?? '').split('\n'),
    };
  }
  return { errorType: fallbackType, errorMessage: String(error) };
}

async function loadHandler(): Promise<Handler> {
  const spec = process.env._HANDLER ?? '';
  const taskRoot = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
  const dot = spec.lastIndexOf('.');
  if (dot <= 0) {
    throw Object.assign(new Error(`Bad handler ${spec}: expected file.export`), {
      name: 'Runtime.MalformedHandlerName',
    });
  }
  const modulePath = spec.slice(0, dot);
  const exportName = spec.slice(dot + 1);
  // .ts is a local-runtime extension: it only loads when the runtime runs from source (tsx).
  const candidates = ['.js', '.mjs', '.cjs', '.ts'].map((ext) => join(taskRoot, `${modulePath}${ext}`));
  const file = candidates.find((candidate) => existsSync(candidate));
  if (!file) {
    throw Object.assign(new Error(`Error: Cannot find module '${modulePath}'`), {
      name: 'Runtime.ImportModuleError',
    });
  }
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof SyntaxError) throw Object.assign(error, { name: 'Runtime.UserCodeSyntaxError' });
    throw error;
  }
  const candidate =
    module[exportName] ?? (module.default as Record<string, unknown> | undefined)?.[exportName];
  if (typeof candidate !== 'function') {
    throw Object.assign(new Error(`${spec} is undefined or not exported`), {
      name: 'Runtime.HandlerNotFound',
    });
  }
  return candidate as Handler;
}

function runHandler(handler: Handler, event: unknown, context: Record<string, unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const callback = (error: unknown, result: unknown): void => {
      if (settled) return;
      settled = true;
      if (error) reject(error);
      else resolve(result);
    };
    try {
      const returned = handler(event, context, callback);
      if (handler.length < 3 || (returned && typeof (returned as Promise<unknown>).then === 'function')) {
        Promise.resolve(returned).then(
          (value) => callback(null, value),
          (error) => callback(error ?? new Error('handler rejected'), undefined),
        );
      }
    } catch (error) {
      callback(error, undefined);
    }
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  patchConsole();
  const initStarted = performance.now();
  let handler: Handler;
  try {
    handler = await loadHandler();
  } catch (error) {
    send({ type: 'init-error', initDurationMs: performance.now() - initStarted, ...errorBody(error) });
    return;
  }
  send({ type: 'ready', initDurationMs: performance.now() - initStarted });
  const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'function';
  process.on('uncaughtException', (error) => {
    const exit = (): never => process.exit(129);
    setTimeout(exit, 500).unref();
    if (currentRequestId) {
      send({ type: 'error', requestId: currentRequestId, durationMs: 0, ...errorBody(error) }, exit);
    } else exit();
  });
  const onInvoke = (message: InvokeMessage): void => {
    if (message.type !== 'invoke') return;
    void (async () => {
      currentRequestId = message.requestId;
      const started = performance.now();
      const context = {
        functionName,
        functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
        memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '128',
        awsRequestId: message.requestId,
        invokedFunctionArn: message.invokedFunctionArn,
        logGroupName: `/aws/lambda/${functionName}`,
        callbackWaitsForEmptyEventLoop: true,
        getRemainingTimeInMillis: () => Math.max(0, message.deadlineMs - Date.now()),
        clientContext: message.clientContext ? parseJson(message.clientContext) : undefined,
      };
      try {
        const text = Buffer.from(message.payload).toString('utf8');
        const event: unknown = text.length === 0 ? {} : JSON.parse(text);
        const result = await runHandler(handler, event, context);
        const durationMs = performance.now() - started;
        const json = JSON.stringify(result === undefined ? null : result);
        send({
          type: 'result',
          requestId: message.requestId,
          payload: Buffer.from(json, 'utf8'),
          durationMs,
        });
      } catch (error) {
        const body = errorBody(error);
        send({
          type: 'log',
          text: `${new Date().toISOString()}\t${message.requestId}\tERROR\tInvoke Error \t${JSON.stringify(body)}\n`,
        });
        send({
          type: 'error',
          requestId: message.requestId,
          durationMs: performance.now() - started,
          ...body,
        });
      } finally {
        currentRequestId = undefined;
      }
    })();
  };
  channel.on(
    'data',
    frameReader((header, payload) => onInvoke({ ...(header as Omit<InvokeMessage, 'payload'>), payload })),
  );
}

// The runtime went away: nothing will ever be invoked again.
channel.on('end', () => process.exit(0));
channel.on('error', () => process.exit(0));

void main();
