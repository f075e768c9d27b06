/**
 * The Lambda Runtime API (`/2018-06-01/runtime/...`) for ONE function instance, on loopback. A
 * runtime (e.g. the official `aws-lambda-ric`, started with `AWS_LAMBDA_RUNTIME_API=<host:port>`)
 * long-polls `GET invocation/next`, gets the event with the `Lambda-Runtime-*` headers, and posts
 * `invocation/{id}/response` or `invocation/{id}/error`; `init/error` reports a failed INIT.
 * Status codes and error bodies are Lambda's: 202 `{"status":"OK"}` on success, 400
 * `InvalidRequestID` / `InvalidStateTransition`, 413 `RequestEntityTooLarge`, 404 for other paths.
 *
 * The server keeps no queue beyond one event: the local runtime gives an instance one invocation at a
 * time, as Lambda does. Its owner learns what happened through the callbacks.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ErrorBody } from './protocol.js';
import { readBody } from './read-body.js';

export const runtimeApiVersion = '2018-06-01';

/** What the local runtime hands to the runtime for one invocation. */
export interface RuntimeInvocation {
  requestId: string;
  /** The event, as JSON text bytes. */
  payload: Uint8Array;
  /** Epoch ms at which the invocation times out. */
  deadlineMs: number;
  invokedFunctionArn: string;
  traceId: string;
  /** Decoded JSON of the Invoke call's `X-Amz-Client-Context`, if any. */
  clientContext?: string;
  /** Cognito identity JSON (mobile SDK invokes; never set by the Invoke API here). */
  cognitoIdentity?: string;
}

export interface RuntimeApiEvents {
  /** The runtime asked for its first event: INIT is over. */
  onFirstNext(): void;
  /** `POST invocation/{id}/response`; `durationMs` runs from handing out the event to the end of the body. */
  onResponse(requestId: string, payload: Buffer, durationMs: number): void;
  /** `POST invocation/{id}/error`, or a response over the size limit (`Function.ResponseSizeTooLarge`). */
  onError(requestId: string, error: ErrorBody, durationMs: number): void;
  /** `POST init/error`. */
  onInitError(error: ErrorBody): void;
}

/** An X-Ray style trace header value: `Root=1-<epoch s hex>-<96 bits hex>;Parent=<64 bits hex>;Sampled=0`. */
export function newTraceId(now = Date.now()): string {
  const seconds = Math.floor(now / 1000)
    .toString(16)
    .padStart(8, '0');
  return `Root=1-${seconds}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body), 'utf8');
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': bytes.byteLength });
  response.end(bytes);
}

/** Error bodies the runtime posts are Lambda's `{ errorType, errorMessage, stackTrace? | trace? }`. */
function parseErrorBody(body: Buffer, headerType: string | undefined): ErrorBody {
  let parsed: Record<string, unknown> = {};
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    if (value && typeof value === 'object') parsed = value as Record<string, unknown>;
  } catch {
    // Not JSON: the runtime's header still names the error type.
  }
  const errorType =
    typeof parsed.errorType === 'string' ? parsed.errorType : (headerType ?? 'Runtime.Unknown');
  const errorMessage =
    typeof parsed.errorMessage === 'string' ? parsed.errorMessage : body.toString('utf8').slice(0, 1024);
  const traceValue = parsed.trace ?? parsed.stackTrace;
  const trace = Array.isArray(traceValue) ? traceValue.map(String) : undefined;
  return { errorType, errorMessage, trace };
}

export class RuntimeApiServer {
  private readonly server: Server;
  private readonly events: RuntimeApiEvents;
  private readonly maxResponseBytes: number;
  /** A parked `GET invocation/next`, waiting for an event. */
  private waiting: ServerResponse | undefined;
  /** An event given before the runtime asked for it. */
  private queued: RuntimeInvocation | undefined;
  /** The invocation handed out and not yet answered, with the time it was handed out. */
  private current: { requestId: string; startedMs: number } | undefined;
  private sawNext = false;
  private closed = false;

  constructor(events: RuntimeApiEvents, options: { maxResponseBytes: number }) {
    this.events = events;
    this.maxResponseBytes = options.maxResponseBytes;
    this.server = createServer((request, response) => {
      this.route(request, response).catch((error: unknown) => {
        if (!response.headersSent)
          send(response, 500, { errorMessage: String(error), errorType: 'ServiceException' });
      });
    });
    // The runtime keeps one connection; a long handler leaves it idle and must find it open.
    this.server.keepAliveTimeout = 0;
    this.server.requestTimeout = 0;
  }

  /** Listens on an ephemeral loopback port; resolves to the `host:port` for `AWS_LAMBDA_RUNTIME_API`. */
  async listen(host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const { port } = this.server.address() as AddressInfo;
    return `${host}:${port}`;
  }

  /** Hands an invocation to the runtime: answers the parked `next`, or keeps it for the next one. */
  deliver(invocation: RuntimeInvocation): void {
    if (this.waiting) {
      const response = this.waiting;
      this.waiting = undefined;
      this.answerNext(response, invocation);
    } else {
      this.queued = invocation;
    }
  }

  /** Forgets the invocation in flight (it timed out or its process died). */
  abandon(): void {
    this.current = undefined;
    this.queued = undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.waiting?.destroy();
    this.waiting = undefined;
    this.server.close();
    this.server.closeAllConnections();
  }

  private answerNext(response: ServerResponse, invocation: RuntimeInvocation): void {
    this.current = { requestId: invocation.requestId, startedMs: performance.now() };
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': invocation.payload.byteLength,
      'Lambda-Runtime-Aws-Request-Id': invocation.requestId,
      'Lambda-Runtime-Deadline-Ms': String(invocation.deadlineMs),
      'Lambda-Runtime-Invoked-Function-Arn': invocation.invokedFunctionArn,
      'Lambda-Runtime-Trace-Id': invocation.traceId,
    };
    if (invocation.clientContext) headers['Lambda-Runtime-Client-Context'] = invocation.clientContext;
    if (invocation.cognitoIdentity) headers['Lambda-Runtime-Cognito-Identity'] = invocation.cognitoIdentity;
    response.writeHead(200, headers);
    response.end(invocation.payload);
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const prefix = `/${runtimeApiVersion}/runtime/`;
    if (!path.startsWith(prefix)) {
      request.resume();
      send(response, 404, { errorMessage: `Unknown path ${path}`, errorType: 'NotFound' });
      return;
    }
    const rest = path.slice(prefix.length);
    if (rest === 'invocation/next' && method === 'GET') {
      request.resume();
      this.next(response);
      return;
    }
    const invocation = /^invocation\/([^/]+)\/(response|error)$/.exec(rest);
    if (invocation && method === 'POST') {
      const requestId = decodeURIComponent(invocation[1] as string);
      const limit = invocation[2] === 'response' ? this.maxResponseBytes : 1024 * 1024;
      const { body, tooLarge } = await readBody(request, limit);
      const current = this.current;
      if (!current || current.requestId !== requestId) {
        send(response, 400, {
          errorMessage: `Invalid request ID: ${requestId}`,
          errorType: 'InvalidRequestID',
        });
        return;
      }
      this.current = undefined;
      const durationMs = performance.now() - current.startedMs;
      if (invocation[2] === 'response') {
        if (tooLarge) {
          send(response, 413, {
            errorMessage: `Exceeded maximum allowed payload size (${this.maxResponseBytes} bytes).`,
            errorType: 'RequestEntityTooLarge',
          });
          this.events.onError(
            requestId,
            {
              errorType: 'Function.ResponseSizeTooLarge',
              errorMessage: `Response payload size exceeded maximum allowed payload size (${this.maxResponseBytes} bytes).`,
            },
            durationMs,
          );
          return;
        }
        send(response, 202, { status: 'OK' });
        this.events.onResponse(requestId, body, durationMs);
        return;
      }
      send(response, 202, { status: 'OK' });
      this.events.onError(requestId, parseErrorBody(body, errorTypeHeader(request)), durationMs);
      return;
    }
    if (rest === 'init/error' && method === 'POST') {
      const { body } = await readBody(request, 1024 * 1024);
      if (this.sawNext) {
        send(response, 403, {
          errorMessage: 'Init error reported after the first invocation/next',
          errorType: 'InvalidStateTransition',
        });
        return;
      }
      send(response, 202, { status: 'OK' });
      this.events.onInitError(parseErrorBody(body, errorTypeHeader(request)));
      return;
    }
    request.resume();
    send(response, 404, { errorMessage: `Unknown path ${method} ${path}`, errorType: 'NotFound' });
  }

  private next(response: ServerResponse): void {
    if (this.current) {
      // Asking for the next event abandons the current one without an answer: Lambda treats the
      // runtime as broken; here the invocation is reported by its owner when the process goes away.
      send(response, 400, {
        errorMessage: `Invocation ${this.current.requestId} has not been answered`,
        errorType: 'InvalidStateTransition',
      });
      return;
    }
    if (this.waiting) this.waiting.destroy();
    if (!this.sawNext) {
      this.sawNext = true;
      this.events.onFirstNext();
    }
    const queued = this.queued;
    if (queued) {
      this.queued = undefined;
      this.answerNext(response, queued);
      return;
    }
    this.waiting = response;
    response.on('close', () => {
      if (this.waiting === response) this.waiting = undefined;
    });
  }
}

function errorTypeHeader(request: IncomingMessage): string | undefined {
  const value = request.headers['lambda-runtime-function-error-type'];
  return Array.isArray(value) ? value[0] : value;
}
