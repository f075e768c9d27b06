import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import {
  decodeExpertMessage,
  decodeS3Reference,
  encodeExpertMessage,
  encodeS3Reference,
  isS3Reference,
  type Logger,
  noopLogger,
  onnxSessionSettings,
  parseJson,
  parseWithSchema,
} from '@switchyard/core';
import { LambdaExecutorError } from '../errors.js';
import { type BinaryEnvelope, decodeEnvelopeObject } from '../executor/envelope.js';
import { functionEnv } from '../runtime/protocol.js';
import { vcpuThreads } from '../runtime/vcpu.js';
import { type ExpertManifest, expertKey, expertManifestFile, expertManifestSchema } from './manifest.js';

/** onnxruntime-node's surface the handler uses (imported lazily so the module loads anywhere). */
type Ort = typeof import('onnxruntime-node');
type Session = import('onnxruntime-node').InferenceSession;

export interface ExpertHandlerOptions {
  /** Path of the manifest; default `$SWITCHYARD_EXPERT_MANIFEST` or `$LAMBDA_TASK_ROOT/switchyard-experts.json`. */
  manifestPath?: string;
  /** onnxruntime threads; default manifest `threads`, `$SWITCHYARD_VCPU_THREADS`, or the memory's vCPU share. */
  threads?: number;
  env?: Record<string, string | undefined>;
  logger?: Logger;
}

export interface ExpertFunction {
  /** Resolves once every graph has a session (the function's INIT work). */
  ready: Promise<void>;
  /** The Lambda handler: a base64 envelope of a wire request (or S3 reference) in, the same out. */
  handler: (event: unknown) => Promise<BinaryEnvelope>;
  /** Threads each session was created with. */
  threads: number;
  close(): Promise<void>;
}

function handlerError(message: string, location: string, cause?: unknown): LambdaExecutorError {
  return new LambdaExecutorError({
    code: 'INFERENCE_FAILED',
    message,
    location,
    ...(cause ? { cause } : {}),
  });
}

function toEnvelope(bytes: Uint8Array): BinaryEnvelope {
  return {
    encoding: 'base64',
    data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
  };
}

async function s3Client(
  env: Record<string, string | undefined>,
): Promise<import('@aws-sdk/client-s3').S3Client> {
  const { S3Client } = await import('@aws-sdk/client-s3');
  const endpoint = env[functionEnv.s3Endpoint];
  return new S3Client({
    region: env.AWS_REGION ?? 'us-east-1',
    ...(endpoint
      ? { endpoint, forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });
}

/**
 * The expert function: at init it reads the manifest, loads every listed expert graph (bundled,
 * from a layer path or from S3) and creates one onnxruntime session per expert with threads matched
 * to the memory's vCPU share. Each invoke decodes the wire request (core `decodeExpertMessage`),
 * runs each segment through its expert and answers with the encoded response (kind 'response', same
 * sequence, layer, experts and token counts). With an S3 reference as payload it reads the request
 * from, and writes the response to, the objects the reference names.
 */
export function createExpertFunction(options: ExpertHandlerOptions = {}): ExpertFunction {
  const env = options.env ?? process.env;
  const logger = options.logger ?? noopLogger;
  const manifestPath =
    options.manifestPath ??
    env.SWITCHYARD_EXPERT_MANIFEST ??
    join(env[functionEnv.taskRoot] ?? process.cwd(), expertManifestFile);
  const memoryMB = Number(env[functionEnv.memorySize] ?? 1769);
  let threads =
    options.threads ?? (env[functionEnv.threads] ? Number(env[functionEnv.threads]) : vcpuThreads(memoryMB));
  const sessions = new Map<string, Session>();
  let manifest: ExpertManifest | undefined;
  let ort: Ort | undefined;
  let s3: import('@aws-sdk/client-s3').S3Client | undefined;

  const readObject = async (bucket: string, key: string): Promise<Uint8Array> => {
    s3 ??= await s3Client(env);
    const { GetObjectCommand } = await import('@aws-sdk/client-s3');
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!object.Body) throw handlerError('empty S3 object', `s3://${bucket}/${key}`);
    return object.Body.transformToByteArray();
  };

  const ready = (async () => {
    const text = await readFile(manifestPath, 'utf8').catch((error: unknown) => {
      throw handlerError(`cannot read the expert manifest: ${String(error)}`, manifestPath, error);
    });
    manifest = parseWithSchema(expertManifestSchema, parseJson(text, manifestPath), manifestPath);
    if (options.threads === undefined && manifest.threads !== undefined) threads = manifest.threads;
    ort = await import('onnxruntime-node');
    const base = dirname(manifestPath);
    for (const entry of manifest.experts) {
      const s3Match = /^s3:\/\/([^/]+)\/(.+)$/.exec(entry.file);
      const bytes = s3Match
        ? await readObject(s3Match[1] as string, s3Match[2] as string)
        : new Uint8Array(await readFile(isAbsolute(entry.file) ? entry.file : join(base, entry.file)));
      // Core's settings, as @switchyard/model's in-process runner uses, so outputs match bit for bit.
      const session = await ort.InferenceSession.create(bytes, onnxSessionSettings(threads));
      sessions.set(expertKey(entry.layer, entry.expert), session);
    }
    logger.debug('expert function ready', { experts: manifest.experts.length, threads });
  })();
  // Keep an init failure from being an unhandled rejection before the first invoke awaits it.
  ready.catch(() => {});

  const compute = async (requestBytes: Uint8Array): Promise<Uint8Array> => {
    const request = decodeExpertMessage(requestBytes);
    if (request.kind !== 'request') throw handlerError('expected a request message', 'expert wire message');
    const H = request.hiddenSize;
    if (manifest && H !== manifest.hiddenSize) {
      throw handlerError(
        `hidden size ${H} does not match the manifest's ${manifest.hiddenSize}`,
        'expert wire message',
      );
    }
    const output = new Float32Array(request.activations.length);
    let row = 0;
    for (let i = 0; i < request.expertIds.length; i++) {
      const expert = request.expertIds[i] as number;
      const count = request.tokenCounts[i] as number;
      const session = sessions.get(expertKey(request.layer, expert));
      if (!session || !ort) {
        throw handlerError(
          `this function holds no graph for layer ${request.layer} expert ${expert}`,
          manifestPath,
        );
      }
      if (count > 0) {
        const input = new ort.Tensor('float32', request.activations.subarray(row * H, (row + count) * H), [
          count,
          H,
        ]);
        const result = await session.run({ hidden_states: input });
        const values = result.expert_output?.data as Float32Array | undefined;
        if (!values || values.length !== count * H) {
          throw handlerError(
            `expert ${expert} returned ${values?.length ?? 0} values, expected ${count * H}`,
            manifestPath,
          );
        }
        output.set(values, row * H);
      }
      row += count;
    }
    return encodeExpertMessage({ ...request, kind: 'response', activations: output });
  };

  return {
    ready,
    get threads() {
      return threads;
    },
    async handler(event) {
      await ready;
      const payload = decodeEnvelopeObject(event, 'expert function event');
      if (!isS3Reference(payload)) return toEnvelope(await compute(payload));
      const reference = decodeS3Reference(payload);
      if (!reference.inputKey)
        throw handlerError('S3 request reference has no inputKey', 'expert S3 reference');
      const response = await compute(await readObject(reference.bucket, reference.inputKey));
      s3 ??= await s3Client(env);
      const { PutObjectCommand } = await import('@aws-sdk/client-s3');
      await s3.send(
        new PutObjectCommand({ Bucket: reference.bucket, Key: reference.outputKey, Body: response }),
      );
      return toEnvelope(
        encodeS3Reference({
          bucket: reference.bucket,
          outputKey: reference.outputKey,
          bytes: response.byteLength,
        }),
      );
    },
    async close() {
      await ready.catch(() => {});
      await Promise.all([...sessions.values()].map((session) => session.release()));
      sessions.clear();
      s3?.destroy();
    },
  };
}
