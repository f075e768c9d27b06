import * as ort from 'onnxruntime-node';
import { inferenceError } from './errors.js';
import { expertGraphInput, expertGraphOutput } from './expert-graph.js';

export interface ExpertRunner {
  /** Runs the graph over `numTokens` rows of `hiddenStates` ([numTokens, H], row-major). */
  run(hiddenStates: Float32Array, numTokens: number): Promise<Float32Array>;
  close(): Promise<void>;
}

/** Session options shared by every graph this package runs. */
export function sessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
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

/** Loads an expert graph (`buildExpertGraph` bytes) into an onnxruntime session with `threads` threads. */
export async function createExpertRunner(
  graphBytes: Uint8Array,
  options: { threads?: number } = {},
): Promise<ExpertRunner> {
  const session = await createSession(graphBytes, options.threads ?? 1, 'expert graph');
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
