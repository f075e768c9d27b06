import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  type ExpertFunctionEnvironment,
  expertFunctionEnvironmentVariables as variables,
} from './environment.js';
import { ExpertFunctionError } from './errors.js';

/** The S3 objects an expert function reads (graphs, requests) and writes (responses). */
export interface ObjectStore {
  get(bucket: string, key: string): Promise<Uint8Array>;
  put(bucket: string, key: string, body: Uint8Array): Promise<void>;
  close(): void;
}

type S3Sdk = typeof import('@aws-sdk/client-s3');
let sdk: Promise<S3Sdk> | undefined;

/**
 * `@aws-sdk/client-s3`: an ordinary import where the package resolves from this module, else through
 * `NODE_PATH`. A deployed bundle runs from the runtime layer (`/opt/nodejs/node_modules/…`); the
 * Node.js runtime's own SDK is under `/var/runtime/node_modules`, which Lambda lists in `NODE_PATH`
 * but an ES module import does not search. `require.resolve` does.
 */
function loadS3Sdk(): Promise<S3Sdk> {
  sdk ??= import('@aws-sdk/client-s3').catch(async (error: unknown) => {
    if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    const path = createRequire(import.meta.url).resolve('@aws-sdk/client-s3');
    const loaded = (await import(pathToFileURL(path).href)) as S3Sdk & { default?: S3Sdk };
    // A CommonJS entry may expose its exports only as `default`.
    return loaded.S3Client ? loaded : (loaded.default as S3Sdk);
  });
  return sdk;
}

/**
 * S3 through `@aws-sdk/client-s3`, loaded on first use (the Lambda Node runtime ships the SDK; a
 * function that never touches S3 never loads it). With `SWITCHYARD_S3_ENDPOINT` set it talks to that
 * endpoint, path style, with placeholder credentials (an embedded S3 accepts any).
 */
export function createObjectStore(env: ExpertFunctionEnvironment): ObjectStore {
  let client: S3Client | undefined;
  const connect = async (): Promise<S3Client> => {
    if (client) return client;
    const { S3Client } = await loadS3Sdk();
    const endpoint = env[variables.s3Endpoint];
    const region = env[variables.region] ?? 'us-east-1';
    client = endpoint
      ? new S3Client({
          region,
          endpoint,
          forcePathStyle: true,
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        })
      : new S3Client({ region });
    return client;
  };
  return {
    async get(bucket, key) {
      const s3 = await connect();
      const { GetObjectCommand } = await loadS3Sdk();
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!object.Body) {
        throw new ExpertFunctionError({
          code: 'INFERENCE_FAILED',
          message: 'empty S3 object',
          location: `s3://${bucket}/${key}`,
        });
      }
      return object.Body.transformToByteArray();
    },
    async put(bucket, key, body) {
      const s3 = await connect();
      const { PutObjectCommand } = await loadS3Sdk();
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    close() {
      client?.destroy();
    },
  };
}
