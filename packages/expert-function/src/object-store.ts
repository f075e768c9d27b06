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

/**
 * S3 through `@aws-sdk/client-s3`, loaded on first use (the Lambda Node runtime ships the SDK; a
 * function that never touches S3 never loads it). With `SWITCHYARD_S3_ENDPOINT` set it talks to that
 * endpoint, path style, with placeholder credentials (an embedded S3 accepts any).
 */
export function createObjectStore(env: ExpertFunctionEnvironment): ObjectStore {
  let client: S3Client | undefined;
  const connect = async (): Promise<S3Client> => {
    if (client) return client;
    const { S3Client } = await import('@aws-sdk/client-s3');
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
      const { GetObjectCommand } = await import('@aws-sdk/client-s3');
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
      const { PutObjectCommand } = await import('@aws-sdk/client-s3');
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    close() {
      client?.destroy();
    },
  };
}
