import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import {
  decodeS3Reference,
  encodeS3Reference,
  isS3Reference,
  lambdaLimits,
  noopLogger,
  parseJson,
  parseWithSchema,
  vcpusForMemory,
} from '@switchyard/core';
import { type BinaryEnvelope, decodeEnvelopeObject } from './envelope.js';
import {
  type ExpertFunctionEnvironment,
  expertFunctionEnvironmentVariables as variables,
} from './environment.js';
import { ExpertFunctionError } from './errors.js';
import { ExpertSessions } from './expert-sessions.js';
import { expertManifestFile, expertManifestSchema } from './manifest.js';
import { createObjectStore } from './object-store.js';
import { type ExpertFunctionOptions, expertFunctionOptionsSchema } from './options.js';

export interface ExpertFunction {
  /** Resolves once every graph has a session (the function's INIT work). */
  ready: Promise<void>;
  /** The Lambda handler: a base64 envelope of a wire request (or S3 reference) in, the same out. */
  handler: (event: unknown) => Promise<BinaryEnvelope>;
  /** Threads each session was created with. */
  readonly threads: number;
  close(): Promise<void>;
}

function toEnvelope(bytes: Uint8Array): BinaryEnvelope {
  return {
    encoding: 'base64',
    data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
  };
}

/**
 * Threads without an explicit setting: `SWITCHYARD_VCPU_THREADS` if the runtime gives it, else one per
 * started vCPU of the memory's share (architecture/aws-lambda-facts.md), at most the cores visible.
 */
function threadsFromEnvironment(env: ExpertFunctionEnvironment): number {
  const given = env[variables.threads];
  if (given) return Number(given);
  const memoryMB = Number(env[variables.memorySize] ?? lambdaLimits.memoryMBPerVcpu);
  return Math.max(1, Math.min(Math.ceil(vcpusForMemory(memoryMB)), availableParallelism()));
}

/**
 * The expert function: at init it reads the manifest, loads every listed expert graph (bundled,
 * from a layer path or from S3) and creates one onnxruntime session per expert with threads matched
 * to the memory's vCPU share. Each invoke decodes the wire request (core `decodeExpertMessage`),
 * runs each segment through its expert and answers with the encoded response (kind 'response', same
 * sequence, layer, experts and token counts). With an S3 reference as payload it reads the request
 * from, and writes the response to, the objects the reference names.
 */
export function createExpertFunction(options: ExpertFunctionOptions = {}): ExpertFunction {
  const { logger = noopLogger, ...rest } = options;
  const resolved = parseWithSchema(expertFunctionOptionsSchema, rest, 'createExpertFunction options');
  const env: ExpertFunctionEnvironment = resolved.env ?? process.env;
  const manifestPath =
    resolved.manifestPath ??
    env[variables.manifest] ??
    join(env[variables.taskRoot] ?? process.cwd(), expertManifestFile);
  let threads = resolved.threads ?? threadsFromEnvironment(env);
  const objects = createObjectStore(env);
  let sessions: ExpertSessions | undefined;

  const ready = (async () => {
    const text = await readFile(manifestPath, 'utf8').catch((error: unknown) => {
      throw new ExpertFunctionError({
        code: 'INFERENCE_FAILED',
        message: `cannot read the expert manifest: ${String(error)}`,
        location: manifestPath,
        cause: error,
      });
    });
    const manifest = parseWithSchema(expertManifestSchema, parseJson(text, manifestPath), manifestPath);
    if (resolved.threads === undefined && manifest.threads !== undefined) threads = manifest.threads;
    sessions = await ExpertSessions.load(manifest, manifestPath, threads, objects);
    logger.debug('expert function ready', { experts: manifest.experts.length, threads });
  })();
  // Keep an init failure from being an unhandled rejection before the first invoke awaits it.
  ready.catch(() => {});

  return {
    ready,
    get threads() {
      return threads;
    },
    async handler(event) {
      await ready;
      const loaded = sessions as ExpertSessions;
      const payload = decodeEnvelopeObject(event, 'expert function event');
      if (!isS3Reference(payload)) return toEnvelope(await loaded.compute(payload));
      const reference = decodeS3Reference(payload);
      if (!reference.inputKey) {
        throw new ExpertFunctionError({
          code: 'INFERENCE_FAILED',
          message: 'S3 request reference has no inputKey',
          location: 'expert S3 reference',
        });
      }
      const response = await loaded.compute(await objects.get(reference.bucket, reference.inputKey));
      await objects.put(reference.bucket, reference.outputKey, response);
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
      await sessions?.close();
      objects.close();
    },
  };
}
