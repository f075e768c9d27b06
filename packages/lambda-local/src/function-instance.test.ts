import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lambdaLimits } from '@switchyard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FunctionInstance } from './function-instance.js';
import type { InstanceSpec } from './instance-environment.js';

/**
 * A runtime written against the Runtime API with nothing but node:http — the part aws-lambda-ric
 * plays in production. The instance starts it as `node <this file> <handler>`, exactly as it starts
 * `aws-lambda-ric <handler>`, so this checks the environment and the protocol from the runtime's side.
 */
const bootstrapSource = `
import { request } from 'node:http';
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const base = '/2018-06-01/runtime';
const call = (method, path, body, headers = {}) => new Promise((resolve, reject) => {
  const req = request({ host, port: Number(port), method, path, headers }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
  });
  req.on('error', reject);
  req.end(body);
});
const handler = process.argv[2];
console.log('bootstrap for', handler);
if (handler === 'broken.handler') {
  const body = JSON.stringify({ errorType: 'Runtime.HandlerNotFound', errorMessage: 'broken.handler is undefined or not exported' });
  await call('POST', base + '/init/error', body, { 'Lambda-Runtime-Function-Error-Type': 'Runtime.HandlerNotFound' });
  process.exit(129);
}
for (;;) {
  const next = await call('GET', base + '/invocation/next');
  const id = next.headers['lambda-runtime-aws-request-id'];
  const event = JSON.parse(next.body);
  console.log('got', id);
  if (event.fail) {
    const body = JSON.stringify({ errorType: 'Error', errorMessage: event.fail, trace: [] });
    await call('POST', base + '/invocation/' + id + '/error', body, { 'Lambda-Runtime-Function-Error-Type': 'Error' });
    continue;
  }
  const answer = {
    event,
    headers: {
      requestId: id,
      deadlineMs: next.headers['lambda-runtime-deadline-ms'],
      arn: next.headers['lambda-runtime-invoked-function-arn'],
      trace: next.headers['lambda-runtime-trace-id'],
      clientContext: next.headers['lambda-runtime-client-context'],
    },
    env: {
      handler: process.env._HANDLER,
      taskRoot: process.env.LAMBDA_TASK_ROOT,
      cwd: process.cwd(),
      name: process.env.AWS_LAMBDA_FUNCTION_NAME,
      memory: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      version: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      region: process.env.AWS_REGION,
      logGroup: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      executionEnv: process.env.AWS_EXECUTION_ENV,
      initializationType: process.env.AWS_LAMBDA_INITIALIZATION_TYPE,
      nodePath: process.env.NODE_PATH,
      optDir: process.env.SWITCHYARD_OPT_DIR,
    },
  };
  const posted = await call('POST', base + '/invocation/' + id + '/response', JSON.stringify(answer));
  if (posted.status !== 202) throw new Error('response refused: ' + posted.status);
}
`;

describe('FunctionInstance with runner "ric" over the Runtime API', () => {
  let dir: string;
  let bootstrap: string;
  const spec = (handler: string): InstanceSpec => ({
    functionName: 'raw',
    functionVersion: '7',
    runtime: 'nodejs24.x',
    nodeExecutable: process.execPath,
    nodeMajor: Number(process.versions.node.split('.')[0]),
    initializationType: 'provisioned-concurrency',
    memoryMB: 512,
    handler,
    codeDir: dir,
    environment: {},
    threads: 1,
    region: 'eu-west-1',
    memoryPollMs: 20,
    initTimeoutMs: 10_000,
    runner: 'ric',
    ricBin: bootstrap,
    maxResponseBytes: lambdaLimits.syncPayloadBytes,
  });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-raw-runtime-'));
    bootstrap = join(dir, 'bootstrap.mjs');
    writeFileSync(bootstrap, bootstrapSource);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs INIT until the first next, then invocations with the Lambda environment and headers', async () => {
    const instance = new FunctionInstance(spec('index.handler'), 0);
    try {
      const init = await instance.start();
      expect(init.kind).toBe('ready');
      expect(init.initDurationMs).toBeGreaterThan(0);
      const before = Date.now();
      const outcome = await instance.invoke('req-a', Buffer.from('{"x":1}'), 3000, {
        clientContext: '{"client":{"app":"t"}}',
        invokedFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:raw:live',
      });
      expect(outcome.kind).toBe('result');
      if (outcome.kind !== 'result') return;
      const answer = JSON.parse(Buffer.from(outcome.payload).toString('utf8'));
      expect(answer.event).toEqual({ x: 1 });
      expect(answer.headers.requestId).toBe('req-a');
      expect(Number(answer.headers.deadlineMs)).toBeGreaterThanOrEqual(before + 3000);
      expect(answer.headers.arn).toBe('arn:aws:lambda:eu-west-1:000000000000:function:raw:live');
      expect(answer.headers.trace).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};/);
      expect(answer.headers.clientContext).toBe('{"client":{"app":"t"}}');
      expect(answer.env).toEqual({
        handler: 'index.handler',
        taskRoot: dir,
        cwd: dir,
        name: 'raw',
        memory: '512',
        version: '7',
        region: 'eu-west-1',
        logGroup: '/aws/lambda/raw',
        executionEnv: 'AWS_Lambda_nodejs24.x',
        initializationType: 'provisioned-concurrency',
        // No layers: NODE_PATH holds the task root only, and there is no stand-in for /opt.
        nodePath: dir,
      });
      expect(outcome.logs).toContain('got req-a');
      expect(outcome.maxMemoryUsedMB).toBeGreaterThan(0);

      const failed = await instance.invoke('req-b', Buffer.from('{"fail":"nope"}'), 3000);
      expect(failed).toMatchObject({ kind: 'error', errorType: 'Error', errorMessage: 'nope', fatal: false });
      expect(instance.alive).toBe(true);
      const again = await instance.invoke('req-c', Buffer.from('{}'), 3000);
      expect(again.kind).toBe('result');
      if (again.kind !== 'result') return;
      // Without an invoked ARN the function's own, unqualified, is passed on.
      expect(JSON.parse(Buffer.from(again.payload).toString('utf8')).headers.arn).toBe(
        'arn:aws:lambda:eu-west-1:000000000000:function:raw',
      );
    } finally {
      await instance.stop();
    }
  });

  it('reports init/error as the INIT outcome', async () => {
    const instance = new FunctionInstance(spec('broken.handler'), 0);
    try {
      const init = await instance.start();
      expect(init).toMatchObject({
        kind: 'error',
        errorType: 'Runtime.HandlerNotFound',
        errorMessage: 'broken.handler is undefined or not exported',
      });
      if (init.kind === 'error') expect(init.logs).toContain('bootstrap for broken.handler');
    } finally {
      await instance.stop();
    }
  });
});
