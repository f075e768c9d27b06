/** Shared pieces of the lambda-executor benchmarks: a seeded SwiGLU expert and a one-layer plan for it. */
import { createRandom, type DeploymentPlanInput, type RandomSource } from '@switchyard/core';
import { buildSwigluGraph } from '@switchyard/model';
import { buildPlan, prediction } from '@switchyard/testing/plans';

export const hiddenSize = 2048;
export const intermediateSize = 1408;
const defaultShape: ExpertShape = { hiddenSize, intermediateSize };
export const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Uniform values in [-0.5, 0.5) from core's seeded generator. */
export function centredRandom(seed: number): RandomSource {
  const random = createRandom(seed);
  return () => random() - 0.5;
}

export interface ExpertShape {
  hiddenSize: number;
  intermediateSize: number;
}

/** The benchmark expert (default hidden 2048, intermediate 1408) with seeded weights, and its random source. */
export function benchExpert(
  seed = 2026,
  { hiddenSize, intermediateSize }: ExpertShape = defaultShape,
): { graph: Uint8Array; random: RandomSource } {
  const random = centredRandom(seed);
  const scale = 1 / Math.sqrt(hiddenSize);
  const weights = (n: number): Float32Array => Float32Array.from({ length: n }, () => random() * 2 * scale);
  const graph = buildSwigluGraph(
    {
      hiddenSize,
      intermediateSize,
      gate: weights(intermediateSize * hiddenSize),
      up: weights(intermediateSize * hiddenSize),
      down: weights(hiddenSize * intermediateSize),
    },
    'bench_expert',
  );
  return { graph, random };
}

/** One layer, one expert, one function group deployed as `functionNames` (replicas) at `memoryMB`. */
export function benchPlan(
  graphBytes: number,
  tokens: number,
  memoryMB: number,
  functionNames: string[],
  shape: ExpertShape = defaultShape,
): DeploymentPlanInput {
  return buildPlan({
    model: {
      name: 'bench',
      fingerprint: 'bench',
      hiddenSize: shape.hiddenSize,
      expertIntermediateSize: shape.intermediateSize,
      bytesPerExpert: graphBytes,
    },
    workload: { tokensPerBatch: tokens, sloMs: 10_000, wireDtype: 'f16' },
    priceTable: { version: 'bench', date: '2026-11-28' },
    layers: [
      {
        layer: 0,
        functions: [{ name: 'expert', experts: [0], memoryMB, functionNames }],
        predict: () => prediction(tokens),
      },
    ],
  });
}

/** Runs `fn` and returns how long it took (ms) with its value. */
export async function time<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}
