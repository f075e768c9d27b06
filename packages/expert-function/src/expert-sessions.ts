import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { decodeExpertMessage, encodeExpertMessage, onnxSessionSettings } from '@switchyard/core';
import { ExpertFunctionError } from './errors.js';
import { type ExpertManifest, expertKey } from './manifest.js';
import type { ObjectStore } from './object-store.js';

/** onnxruntime-node's surface the function uses (imported lazily so the module loads anywhere). */
type Ort = typeof import('onnxruntime-node');
type Session = import('onnxruntime-node').InferenceSession;

function inferenceError(message: string, location: string): ExpertFunctionError {
  return new ExpertFunctionError({ code: 'INFERENCE_FAILED', message, location });
}

/**
 * One onnxruntime session per expert graph of a manifest; runs wire requests through them. Each graph
 * maps `hidden_states` [N, H] to `expert_output` [N, H].
 */
export class ExpertSessions {
  private constructor(
    private readonly ort: Ort,
    private readonly manifest: ExpertManifest,
    private readonly manifestPath: string,
    private readonly sessions: Map<string, Session>,
  ) {}

  /**
   * Loads every graph the manifest lists (relative to the manifest, an absolute path such as a layer
   * under `/opt`, or `s3://bucket/key`) into a session with `threads` intra-op threads and core's
   * session settings, as `@switchyard/model`'s in-process runner uses, so outputs match bit for bit.
   * Graphs in S3 are fetched concurrently (INIT has 10 s on Lambda; the GETs wait on the network,
   * session creation on the CPU); a key named by its content (`…/<sha256>.onnx`, as deployments
   * upload them) is checked against the bytes read.
   */
  static async load(
    manifest: ExpertManifest,
    manifestPath: string,
    threads: number,
    objects: ObjectStore,
  ): Promise<ExpertSessions> {
    const ort = await import('onnxruntime-node');
    const base = dirname(manifestPath);
    const fetched = new Map<string, Promise<Uint8Array>>();
    for (const entry of manifest.experts) {
      if (entry.file.startsWith('s3://') && !fetched.has(entry.file)) {
        const reading = readGraphObject(entry.file, objects);
        reading.catch(() => {}); // awaited below, in manifest order
        fetched.set(entry.file, reading);
      }
    }
    const sessions = new Map<string, Session>();
    for (const entry of manifest.experts) {
      const bytes =
        (await fetched.get(entry.file)) ??
        new Uint8Array(await readFile(isAbsolute(entry.file) ? entry.file : join(base, entry.file)));
      const session = await ort.InferenceSession.create(bytes, onnxSessionSettings(threads));
      sessions.set(expertKey(entry.layer, entry.expert), session);
    }
    return new ExpertSessions(ort, manifest, manifestPath, sessions);
  }

  /**
   * Decodes a wire request, runs each segment through its expert and encodes the response (kind
   * 'response', same sequence, layer, experts and token counts).
   */
  async compute(requestBytes: Uint8Array): Promise<Uint8Array> {
    const request = decodeExpertMessage(requestBytes);
    if (request.kind !== 'request') throw inferenceError('expected a request message', 'expert wire message');
    const H = request.hiddenSize;
    if (H !== this.manifest.hiddenSize) {
      throw inferenceError(
        `hidden size ${H} does not match the manifest's ${this.manifest.hiddenSize}`,
        'expert wire message',
      );
    }
    const output = new Float32Array(request.activations.length);
    let row = 0;
    for (let i = 0; i < request.expertIds.length; i++) {
      const expert = request.expertIds[i] as number;
      const count = request.tokenCounts[i] as number;
      const session = this.sessions.get(expertKey(request.layer, expert));
      if (!session) {
        throw inferenceError(
          `this function holds no graph for layer ${request.layer} expert ${expert}`,
          this.manifestPath,
        );
      }
      if (count > 0) {
        const rows = request.activations.subarray(row * H, (row + count) * H);
        const result = await session.run({ hidden_states: new this.ort.Tensor('float32', rows, [count, H]) });
        const values = result.expert_output?.data as Float32Array | undefined;
        if (!values || values.length !== count * H) {
          throw inferenceError(
            `expert ${expert} returned ${values?.length ?? 0} values, expected ${count * H}`,
            this.manifestPath,
          );
        }
        output.set(values, row * H);
      }
      row += count;
    }
    return encodeExpertMessage({ ...request, kind: 'response', activations: output });
  }

  get size(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((session) => session.release()));
    this.sessions.clear();
  }
}

/**
 * One graph from `s3://bucket/key`: an error names the object; a key whose file name is a SHA-256
 * (content-addressed) must match the bytes' digest, so a truncated or replaced object fails INIT
 * instead of computing with the wrong weights.
 */
async function readGraphObject(url: string, objects: ObjectStore): Promise<Uint8Array> {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!match) throw inferenceError('expected s3://bucket/key', url);
  let bytes: Uint8Array;
  try {
    bytes = await objects.get(match[1] as string, match[2] as string);
  } catch (error) {
    throw new ExpertFunctionError({
      code: 'INFERENCE_FAILED',
      message: `cannot read the expert graph: ${error instanceof Error ? error.message : String(error)}`,
      location: url,
      cause: error,
    });
  }
  const named = /([0-9a-f]{64})\.onnx$/.exec(url)?.[1];
  if (named) {
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== named) {
      throw inferenceError(`the graph's SHA-256 is ${digest}, not the ${named} its key names`, url);
    }
  }
  return bytes;
}
