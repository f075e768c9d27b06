import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import * as lambdaSdk from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaExecutorError } from '../errors.js';
import { invokeErrorRule, invokeErrorRules, unlistedInvokeErrorRules } from './invoke-errors.js';
import { LambdaExecutor } from './lambda-executor.js';

/** The errors `@aws-sdk/client-lambda`'s InvokeCommand declares (its `@throws`, generated from Lambda's model). */
function sdkInvokeErrors(): string[] {
  const packageJson = createRequire(import.meta.url).resolve('@aws-sdk/client-lambda/package.json');
  const declaration = readFileSync(
    join(dirname(packageJson), 'dist-types', 'commands', 'InvokeCommand.d.ts'),
    'utf8',
  );
  return [...declaration.matchAll(/@throws \{@link (\w+)\} \((?:client|server) fault\)/g)].map(
    (match) => match[1] as string,
  );
}

/** The HTTP status the SDK's schema gives an error (`httpError` of its `…$` schema). */
function sdkStatus(name: string): number | undefined {
  const schema = (lambdaSdk as unknown as Record<string, unknown>)[`${name}$`] as
    | [number, string, string, { httpError?: number }]
    | undefined;
  return schema?.[3].httpError;
}

/**
 * The Invoke errors another attempt can fix, from the API reference's descriptions and the
 * troubleshooting guide: throttles, Lambda's own faults, and conditions documented as "wait … and try
 * again". Written out here so that changing a rule in the table is a visible decision.
 */
const retryableByDocumentation = [
  'TooManyRequestsException', // throttled: the request rate or concurrency limit
  'EC2ThrottledException', // EC2 throttled Lambda while it set up the function
  'EC2UnexpectedException', // an unexpected EC2 client exception inside Lambda
  'ServiceException', // Lambda's internal error
  'ResourceConflictException', // the function is being created or updated
  'ResourceNotReadyException', // wait for the VPC connection to reestablish and try again
  'ENINotReadyException', // wait a few moments and try the request again
  'CodeArtifactUserPendingException', // wait for the function to become Active and try again
  'CodeArtifactUserDeletedException', // wait for Lambda to provision a new code artifact user
  'SnapStartNotReadyException', // invoke when the function state becomes Active
  'SnapStartTimeoutException', // the snapshot restore timed out
  'EFSMountTimeoutException', // the mount timed out: retry the invocation
  'S3FilesMountTimeoutException', // the mount timed out
];

describe('the Invoke errors the executor knows', () => {
  it('retries exactly the ones the documentation says another attempt can fix', () => {
    const retryable = Object.entries(invokeErrorRules)
      .filter(([, rule]) => rule.retryable)
      .map(([name]) => name);
    expect(retryable.sort()).toEqual([...retryableByDocumentation].sort());
  });

  it('are exactly the errors the SDK declares for Invoke, with the SDK’s HTTP statuses', () => {
    const declared = sdkInvokeErrors();
    expect(declared.length).toBeGreaterThan(30);
    expect(Object.keys(invokeErrorRules).sort()).toEqual([...declared].sort());
    for (const name of declared)
      expect([name, invokeErrorRules[name]?.status]).toEqual([name, sdkStatus(name)]);
  });

  it('classifies errors no table lists by their status', () => {
    expect(invokeErrorRule('SomethingNewException', 503)).toMatchObject({ retryable: true });
    expect(invokeErrorRule('SomethingNewException', 429)).toMatchObject({
      retryable: true,
      code: 'THROTTLED',
    });
    expect(invokeErrorRule('SomethingNewException', 400)).toMatchObject({ retryable: false });
    // Names are looked up as own keys only.
    expect(invokeErrorRule('constructor', 400)).toMatchObject({ retryable: false });
  });
});

/**
 * An HTTP server answering every Invoke with one AWS error in Lambda's REST-JSON shape (status,
 * `x-amzn-ErrorType`, `{ Type, message }`), counting the attempts; the SDK turns the answer into its
 * own exception class, which the executor then classifies.
 */
describe('LambdaExecutor retries exactly the retryable Invoke errors', () => {
  let server: Server;
  let endpoint: string;
  let answer: { name: string; status: number };
  let attempts = 0;

  beforeAll(async () => {
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        attempts += 1;
        const body = JSON.stringify({ Type: 'User', message: `injected ${answer.name}` });
        response.writeHead(answer.status, {
          'content-type': 'application/json',
          'x-amzn-ErrorType': `${answer.name}:`,
          'x-amzn-RequestId': '00000000-0000-4000-8000-000000000000',
          'content-length': Buffer.byteLength(body),
        });
        response.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const cases = Object.entries({ ...invokeErrorRules, ...unlistedInvokeErrorRules });

  it.each(cases)('%s', async (name, rule) => {
    answer = { name, status: rule.status };
    attempts = 0;
    const executor = new LambdaExecutor({
      endpoint,
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
      maxAttempts: 3,
      baseBackoffMs: 0,
      // Given, so the executor does not ask this server for the function's timeout (it counts requests).
      timeoutMs: 60_000,
    });
    try {
      const error = await executor
        .invoke({ functionName: 'expert', payload: new Uint8Array([1, 2, 3]) })
        .then(
          () => undefined,
          (caught: unknown) => caught,
        );
      expect(LambdaExecutorError.isInstance(error)).toBe(true);
      const failure = error as LambdaExecutorError;
      expect(failure).toMatchObject({ code: rule.code, retryable: rule.retryable, awsErrorName: name });
      expect(attempts).toBe(rule.retryable ? 3 : 1);
      // The SDK raised its own class for every error it models (not a generic service exception).
      const sdkClass = (lambdaSdk as unknown as Record<string, unknown>)[name];
      if (name in invokeErrorRules) expect(failure.cause).toBeInstanceOf(sdkClass as new () => unknown);
    } finally {
      await executor.close();
    }
  });
});
