import { request } from 'node:http';
import { lambdaLimits } from '@switchyard/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { ErrorBody } from './protocol.js';
import { newTraceId, RuntimeApiServer } from './runtime-api.js';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP client playing the runtime (what aws-lambda-ric does through libcurl). */
function call(
  address: string,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

type Recorded =
  | { kind: 'first-next' }
  | { kind: 'response'; requestId: string; payload: string; durationMs: number }
  | { kind: 'error'; requestId: string; error: ErrorBody; durationMs: number }
  | { kind: 'init-error'; error: ErrorBody };

function recordingServer(maxResponseBytes = lambdaLimits.syncPayloadBytes): {
  server: RuntimeApiServer;
  events: Recorded[];
  firstNext: Promise<void>;
} {
  const events: Recorded[] = [];
  let sawFirstNext: () => void = () => {};
  const firstNext = new Promise<void>((resolve) => {
    sawFirstNext = resolve;
  });
  const server = new RuntimeApiServer(
    {
      onFirstNext: () => {
        events.push({ kind: 'first-next' });
        sawFirstNext();
      },
      onResponse: (requestId, payload, durationMs) =>
        events.push({ kind: 'response', requestId, payload: payload.toString('utf8'), durationMs }),
      onError: (requestId, error, durationMs) => events.push({ kind: 'error', requestId, error, durationMs }),
      onInitError: (error) => events.push({ kind: 'init-error', error }),
    },
    { maxResponseBytes },
  );
  return { server, events, firstNext };
}

const base = '/2018-06-01/runtime';
const invocation = (requestId: string, payload: unknown, extra: Record<string, string> = {}) => ({
  requestId,
  payload: Buffer.from(JSON.stringify(payload)),
  deadlineMs: 1_900_000_000_000,
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:echo',
  traceId: 'Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0',
  ...extra,
});

describe('Lambda Runtime API (one instance), spoken to by a raw HTTP client', () => {
  let server: RuntimeApiServer | undefined;
  afterEach(() => server?.close());

  it('long-polls invocation/next and hands out the event with the Lambda-Runtime-* headers', async () => {
    const recording = recordingServer();
    server = recording.server;
    const address = await server.listen();
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    let answered = false;
    const next = call(address, 'GET', `${base}/invocation/next`).finally(() => {
      answered = true;
    });
    // The GET reaches the server and is parked there until an event arrives.
    await recording.firstNext;
    expect(recording.events).toEqual([{ kind: 'first-next' }]);
    expect(answered).toBe(false);
    server.deliver(invocation('req-1', { hello: 'world' }, { clientContext: '{"custom":{"a":1}}' }));
    const got = await next;
    expect(got.status).toBe(200);
    expect(JSON.parse(got.body)).toEqual({ hello: 'world' });
    expect(got.headers['lambda-runtime-aws-request-id']).toBe('req-1');
    expect(got.headers['lambda-runtime-deadline-ms']).toBe('1900000000000');
    expect(got.headers['lambda-runtime-invoked-function-arn']).toBe(
      'arn:aws:lambda:us-east-1:000000000000:function:echo',
    );
    expect(got.headers['lambda-runtime-trace-id']).toMatch(/^Root=1-/);
    expect(got.headers['lambda-runtime-client-context']).toBe('{"custom":{"a":1}}');
    expect(got.headers['lambda-runtime-cognito-identity']).toBeUndefined();

    const posted = await call(address, 'POST', `${base}/invocation/req-1/response`, '{"ok":true}');
    expect(posted.status).toBe(202);
    expect(JSON.parse(posted.body)).toEqual({ status: 'OK' });
    const response = recording.events[1];
    expect(response).toMatchObject({ kind: 'response', requestId: 'req-1', payload: '{"ok":true}' });
    expect((response as { durationMs: number }).durationMs).toBeGreaterThanOrEqual(0);

    // An event given before the runtime asks is handed out at the next GET.
    server.deliver(invocation('req-2', [1, 2, 3]));
    const queued = await call(address, 'GET', `${base}/invocation/next`);
    expect(queued.headers['lambda-runtime-aws-request-id']).toBe('req-2');
    expect(queued.headers['lambda-runtime-client-context']).toBeUndefined();
    expect(JSON.parse(queued.body)).toEqual([1, 2, 3]);
  });

  it('takes invocation errors with Lambda-Runtime-Function-Error-Type and rejects unknown request ids', async () => {
    const recording = recordingServer();
    server = recording.server;
    const address = await server.listen();
    server.deliver(invocation('req-e', {}));
    await call(address, 'GET', `${base}/invocation/next`);
    const wrong = await call(address, 'POST', `${base}/invocation/other/response`, '{}');
    expect(wrong.status).toBe(400);
    expect(JSON.parse(wrong.body)).toMatchObject({ errorType: 'InvalidRequestID' });
    // Asking for another event before answering this one is an invalid state transition.
    const early = await call(address, 'GET', `${base}/invocation/next`);
    expect(early.status).toBe(400);
    expect(JSON.parse(early.body)).toMatchObject({ errorType: 'InvalidStateTransition' });

    const body = JSON.stringify({
      errorType: 'TypeError',
      errorMessage: 'boom',
      trace: ['TypeError: boom', '  at x'],
    });
    const posted = await call(address, 'POST', `${base}/invocation/req-e/error`, body, {
      'Lambda-Runtime-Function-Error-Type': 'Unhandled',
      'content-type': 'application/json',
    });
    expect(posted.status).toBe(202);
    expect(recording.events.at(-1)).toMatchObject({
      kind: 'error',
      requestId: 'req-e',
      error: { errorType: 'TypeError', errorMessage: 'boom', trace: ['TypeError: boom', '  at x'] },
    });
    // A second answer to the same invocation is refused.
    const again = await call(address, 'POST', `${base}/invocation/req-e/response`, '{}');
    expect(again.status).toBe(400);

    // A body that is not JSON: the header names the error type.
    server.deliver(invocation('req-f', {}));
    await call(address, 'GET', `${base}/invocation/next`);
    await call(address, 'POST', `${base}/invocation/req-f/error`, 'segfault', {
      'Lambda-Runtime-Function-Error-Type': 'Runtime.Crash',
    });
    expect(recording.events.at(-1)).toMatchObject({
      kind: 'error',
      error: { errorType: 'Runtime.Crash', errorMessage: 'segfault' },
    });
    const unknown = await call(address, 'GET', '/2018-06-01/runtime/nothing');
    expect(unknown.status).toBe(404);
  });

  it('answers 413 RequestEntityTooLarge to responses over the limit (Function.ResponseSizeTooLarge)', async () => {
    const recording = recordingServer(1000);
    server = recording.server;
    const address = await server.listen();
    server.deliver(invocation('req-big', {}));
    await call(address, 'GET', `${base}/invocation/next`);
    const posted = await call(address, 'POST', `${base}/invocation/req-big/response`, Buffer.alloc(1001, 32));
    expect(posted.status).toBe(413);
    expect(JSON.parse(posted.body)).toMatchObject({ errorType: 'RequestEntityTooLarge' });
    expect(recording.events.at(-1)).toMatchObject({
      kind: 'error',
      requestId: 'req-big',
      error: { errorType: 'Function.ResponseSizeTooLarge' },
    });
  });

  it('takes init/error before the first next, and refuses it after', async () => {
    const recording = recordingServer();
    server = recording.server;
    const address = await server.listen();
    const body = JSON.stringify({
      errorType: 'Runtime.ImportModuleError',
      errorMessage: "Cannot find module 'index'",
    });
    const posted = await call(address, 'POST', `${base}/init/error`, body, {
      'Lambda-Runtime-Function-Error-Type': 'Runtime.ImportModuleError',
    });
    expect(posted.status).toBe(202);
    expect(recording.events).toEqual([
      {
        kind: 'init-error',
        error: { errorType: 'Runtime.ImportModuleError', errorMessage: "Cannot find module 'index'" },
      },
    ]);
    server.deliver(invocation('req-x', {}));
    await call(address, 'GET', `${base}/invocation/next`);
    const late = await call(address, 'POST', `${base}/init/error`, body);
    expect(late.status).toBe(403);
  });

  it('makes X-Ray style trace ids', () => {
    expect(newTraceId(1_700_000_000_000)).toMatch(
      /^Root=1-6553f100-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/,
    );
  });
});
