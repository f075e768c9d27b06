import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import type { DeploymentClients, ResolvedUndeployOptions } from '../options.js';

/** The clients of one deployment, and which of them were made here (and are destroyed when done). */
export interface AwsClients {
  lambda: LambdaClient;
  s3: S3Client;
  iam: IAMClient;
  sts: STSClient;
  /** Destroys the clients made here; the caller's are left alone. */
  destroy(): void;
}

type ClientOptions = Pick<
  ResolvedUndeployOptions,
  'target' | 'endpoint' | 's3Endpoint' | 'region' | 'credentials'
>;

/**
 * The SDK clients of a deployment. Each makes one attempt per call (`maxAttempts: 1`): the retries of
 * control-plane calls are the deployment's own (`control-plane.ts`), so they are the same on every
 * endpoint and visible to a test. With `endpoint` set every service goes there (a moto server serves
 * Lambda, S3, IAM and STS on one port); S3 then uses path-style addressing. A local target without
 * credentials gets placeholders (the embedded runtime accepts any).
 */
export function createAwsClients(
  options: ClientOptions,
  given: DeploymentClients & { lambdaEndpoint?: string } = {},
): AwsClients {
  const credentials =
    options.credentials ??
    (options.target === 'local' ? { accessKeyId: 'local', secretAccessKey: 'local' } : undefined);
  const lambdaEndpoint = given.lambdaEndpoint ?? options.endpoint;
  const s3Endpoint = options.s3Endpoint ?? options.endpoint;
  // The SDK's config merges over its defaults, so an explicit `undefined` would erase one: spread.
  const common = { region: options.region, maxAttempts: 1, ...(credentials ? { credentials } : {}) };
  const made: Array<{ destroy(): void }> = [];
  const make = <T extends { destroy(): void }>(client: T): T => {
    made.push(client);
    return client;
  };
  const lambda =
    given.lambda ??
    make(new LambdaClient({ ...common, ...(lambdaEndpoint ? { endpoint: lambdaEndpoint } : {}) }));
  const s3 =
    given.s3 ??
    make(new S3Client({ ...common, ...(s3Endpoint ? { endpoint: s3Endpoint, forcePathStyle: true } : {}) }));
  const endpoint = options.endpoint ? { endpoint: options.endpoint } : {};
  const iam = given.iam ?? make(new IAMClient({ ...common, ...endpoint }));
  const sts = given.sts ?? make(new STSClient({ ...common, ...endpoint }));
  return {
    lambda,
    s3,
    iam,
    sts,
    destroy() {
      for (const client of made) client.destroy();
    },
  };
}
