import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { motoCredentials } from '@switchyard/testing/moto';
import type { DeploymentClients } from '../src/options.js';

/** One SDK call as a middleware saw it: `lambda:CreateFunction`, `s3:PutObject`, … */
export type Call = string;

/** Calls that change something: everything but Get*, List* and Head*. */
export const isWrite = (call: Call): boolean => !/:(Get|List|Head)/.test(call);

/** Something a test does to one call instead of sending it: throw an AWS error, or answer. */
export type Interception = (call: Call, input: unknown) => { error: Error } | { output: unknown } | undefined;

interface Stackable {
  middlewareStack: {
    add(
      middleware: (
        next: (args: { input: unknown }) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: { input: unknown }) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

/**
 * Real SDK clients for `endpoint` with a middleware that records every call (service:Command) and
 * may intercept one: the way a test counts write calls and injects the AWS errors moto cannot
 * produce.
 */
export function recordingClients(
  endpoint: string,
  options: { region?: string; intercept?: Interception } = {},
): DeploymentClients & {
  calls: Call[];
  /** Calls the service answered with an error: `lambda:PublishVersion ResourceConflictException`. */
  failures: string[];
  destroy(): void;
  lambda: LambdaClient;
  s3: S3Client;
  iam: IAMClient;
  sts: STSClient;
} {
  const calls: Call[] = [];
  const failures: string[] = [];
  const common = {
    endpoint,
    region: options.region ?? 'us-east-1',
    credentials: motoCredentials,
    maxAttempts: 1,
  };
  const lambda = new LambdaClient(common);
  const s3 = new S3Client({ ...common, forcePathStyle: true });
  const iam = new IAMClient(common);
  const sts = new STSClient(common);
  const record = (service: string, client: Stackable): void => {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const call = `${service}:${(context.commandName ?? '?').replace(/Command$/, '')}`;
        calls.push(call);
        const intercepted = options.intercept?.(call, args.input);
        if (intercepted && 'error' in intercepted) throw intercepted.error;
        if (intercepted && 'output' in intercepted) return { output: intercepted.output, response: {} };
        try {
          return await next(args);
        } catch (error) {
          failures.push(`${call} ${(error as Error).name}`);
          throw error;
        }
      },
      { step: 'initialize', name: 'recordCalls' },
    );
  };
  record('lambda', lambda as unknown as Stackable);
  record('s3', s3 as unknown as Stackable);
  record('iam', iam as unknown as Stackable);
  record('sts', sts as unknown as Stackable);
  return {
    lambda,
    s3,
    iam,
    sts,
    calls,
    failures,
    destroy() {
      for (const client of [lambda, s3, iam, sts]) client.destroy();
    },
  };
}
