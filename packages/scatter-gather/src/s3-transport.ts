import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  decodeS3Reference,
  describeError,
  type Executor,
  encodeS3Reference,
  isS3Reference,
} from '@switchyard/core';
import { ScatterGatherError } from './errors.js';
import type { Transport } from './transport.js';

/** The part of an `S3Client` the transport uses. */
export type S3TransportClient = Pick<S3Client, 'send'>;

export interface S3TransportOptions {
  executor: Executor;
  client: S3TransportClient;
  bucket: string;
  prefix: string;
  deleteObjects: boolean;
  createBucket?: boolean;
}

/**
 * Object-storage transport (paper methods 1 and 2): upload the wire request, invoke the function
 * with a small S3 reference, download the wire response it wrote. Pipelining (method 1) comes from
 * the dispatcher cutting at β and running uploads, invocations and downloads of different
 * mini-batches concurrently.
 */
export function createS3Transport(options: S3TransportOptions): Transport {
  const { executor, client, bucket } = options;
  let bucketReady: Promise<void> | undefined;
  const ensureBucket = (): Promise<void> => {
    bucketReady ??= client.send(new CreateBucketCommand({ Bucket: bucket })).then(
      () => {},
      (error: { name?: string }) => {
        if (error?.name === 'BucketAlreadyOwnedByYou' || error?.name === 'BucketAlreadyExists') return;
        bucketReady = undefined;
        throw new ScatterGatherError({
          code: 'EXECUTOR_FAILED',
          message: `could not create S3 bucket ${bucket}: ${describeError(error)}`,
          cause: error,
          location: `s3://${bucket}`,
          retryable: true,
        });
      },
    );
    return bucketReady;
  };
  return {
    async exchange(request) {
      const started = performance.now();
      if (options.createBucket) await ensureBucket();
      const inputKey = `${options.prefix}/${request.attemptKey}/in`;
      const outputKey = `${options.prefix}/${request.attemptKey}/out`;
      const s3Call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
        try {
          return await run();
        } catch (error) {
          if (request.signal.aborted) throw request.signal.reason ?? error;
          throw new ScatterGatherError({
            code: 'EXECUTOR_FAILED',
            message: `S3 ${what} failed: ${describeError(error)}`,
            cause: error,
            location: `s3://${bucket}/${what === 'upload' ? inputKey : outputKey}`,
            retryable: true,
          });
        }
      };
      await s3Call('upload', () =>
        client.send(new PutObjectCommand({ Bucket: bucket, Key: inputKey, Body: request.payload }), {
          abortSignal: request.signal,
        }),
      );
      const pointer = encodeS3Reference({ bucket, inputKey, outputKey });
      const result = await executor.invoke({
        functionName: request.functionName,
        payload: pointer,
        signal: request.signal,
        timeoutMs: request.timeoutMs,
      });
      if (!isS3Reference(result.payload)) {
        throw new ScatterGatherError({
          code: 'WIRE_FORMAT_INVALID',
          message: `function ${request.functionName} answered an S3 request inline; its handler may not support the object-storage transport`,
          location: request.functionName,
          retryable: false,
        });
      }
      const reference = decodeS3Reference(result.payload);
      const payload = await s3Call('download', async () => {
        const object = await client.send(
          new GetObjectCommand({ Bucket: reference.bucket, Key: reference.outputKey }),
          { abortSignal: request.signal },
        );
        if (!object.Body) throw new Error('empty body');
        return object.Body.transformToByteArray();
      });
      if (options.deleteObjects) {
        // Best effort: a leftover object costs storage, not correctness.
        // Single-object deletes: every S3-compatible API has them (multi-object delete is optional).
        for (const [objectBucket, key] of [
          [bucket, inputKey],
          [reference.bucket, reference.outputKey],
        ] as const) {
          void client.send(new DeleteObjectCommand({ Bucket: objectBucket, Key: key })).catch(() => {});
        }
      }
      return {
        payload,
        billing: result.billing,
        latencyMs: performance.now() - started,
        requestBytes: request.payload.byteLength + pointer.byteLength,
        responseBytes: payload.byteLength + result.payload.byteLength,
      };
    },
  };
}
