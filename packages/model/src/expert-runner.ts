import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Logger, onnxSessionSettings, parseWithSchema } from '@switchyard/core';
import * as ort from 'onnxruntime-node';
import { inferenceError } from './errors.js';
import { expertGraphInput, expertGraphOutput } from './expert-graph.js';
import type { GraphBuilder } from './graph-builder.js';
import { type ExpertRunnerOptions, expertRunnerOptionsSchema } from './options.js';

export interface ExpertRunner {
  /** Runs the graph over `numTokens` rows of `hiddenStates` ([numTokens, H], row-major). */
  run(hiddenStates: Float32Array, numTokens: number): Promise<Float32Array>;
  close(): Promise<void>;
}

/** Session options for every graph this package runs: core's `onnxSessionSettings` (no pool spinning). */
export function sessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return onnxSessionSettings(threads);
}

export async function createSession(
  bytes: Uint8Array,
  threads: number,
  what: string,
): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, sessionOptions(threads));
  } catch (error) {
    throw inferenceError(`onnxruntime could not load the graph: ${(error as Error).message}`, what, error);
  }
}

/**
 * Creates a session for a graph built in process, handing onnxruntime the weights as an external-data
 * file in a private temporary directory that is deleted once the session exists. Loading from protobuf
 * bytes instead makes onnxruntime copy every weight into the heap and free that copy after prepacking
 * MatMul weights; with glibc those freed blocks mostly stay in the process (about one extra copy of
 * every weight of 128 KiB–32 MiB). Falls back to in-memory bytes when the directory cannot be written.
 * Numerically identical to `createSession(graph.build())`.
 */
export async function createSessionFromGraph(
  graph: GraphBuilder,
  threads: number,
  what: string,
  logger?: Logger,
): Promise<ort.InferenceSession> {
  let dir: string | undefined;
  let modelPath: string;
  try {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-graph-'));
    modelPath = graph.writeWithExternalWeights(dir, 'graph');
  } catch (error) {
    if (dir) rmSync(dir, { recursive: true, force: true });
    logger?.debug('cannot write graph weights to a temporary file; loading from memory', {
      what,
      error: (error as Error).message,
    });
    return createSession(graph.build(), threads, what);
  }
  try {
    return await ort.InferenceSession.create(modelPath, sessionOptions(threads));
  } catch (error) {
    throw inferenceError(`onnxruntime could not load the graph: ${(error as Error).message}`, what, error);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Loads an expert graph (`buildExpertGraph` bytes) into an onnxruntime session with `threads` threads. */
export async function createExpertRunner(
  graphBytes: Uint8Array,
  options: ExpertRunnerOptions = {},
): Promise<ExpertRunner> {
  const { threads } = parseWithSchema(expertRunnerOptionsSchema, options, 'createExpertRunner options');
  const session = await createSession(graphBytes, threads, 'expert graph');
  const hiddenSize = Number(
    (session.inputMetadata?.[0] as { shape?: readonly (number | string)[] } | undefined)?.shape?.[1] ??
      Number.NaN,
  );
  return {
    async run(hiddenStates, numTokens) {
      const size = Number.isFinite(hiddenSize) ? hiddenSize : hiddenStates.length / Math.max(numTokens, 1);
      if (hiddenStates.length !== numTokens * size)
        throw inferenceError(
          `hidden states hold ${hiddenStates.length} values, expected ${numTokens} × ${size}`,
          'hidden_states',
        );
      if (numTokens === 0) return new Float32Array(0);
      const input = new ort.Tensor('float32', hiddenStates, [numTokens, size]);
      const result = await session.run({ [expertGraphInput]: input });
      return result[expertGraphOutput]!.data as Float32Array;
    },
    close: () => session.release(),
  };
}
