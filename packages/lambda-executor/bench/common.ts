/** Shared pieces of the lambda-executor benchmarks: a seeded SwiGLU expert and a one-layer plan for it. */
import type { DeploymentPlanInput } from '@switchyard/core';
import { buildSwigluGraph } from '@switchyard/model';

export const hiddenSize = 2048;
export const intermediateSize = 1408;
const defaultShape: ExpertShape = { hiddenSize, intermediateSize };
export const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Uniform values in [-0.5, 0.5) from a seeded LCG. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296 - 0.5;
  };
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

export interface ExpertShape {
  hiddenSize: number;
  intermediateSize: number;
}

/** The benchmark expert (default hidden 2048, intermediate 1408) with seeded weights, and its random source. */
export function benchExpert(
  seed = 2026,
  { hiddenSize, intermediateSize }: ExpertShape = defaultShape,
): { graph: Uint8Array; random: () => number } {
  const random = seeded(seed);
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
  return {
    kind: 'switchyard.deployment-plan',
    version: 1,
    createdAt: '2026-11-28T00:00:00Z',
    strategy: 'manual',
    model: {
      name: 'bench',
      fingerprint: 'bench',
      architecture: 'mixtral',
      hiddenSize: shape.hiddenSize,
      expertIntermediateSize: shape.intermediateSize,
      numExperts: 1,
      topK: 1,
      bytesPerExpert: graphBytes,
    },
    workload: { tokensPerBatch: tokens, sloMs: 10_000, wireDtype: 'f16' },
    priceTable: { version: 'bench', date: '2026-11-28' },
    layers: [
      {
        layer: 0,
        method: 'direct',
        beta: tokens,
        functions: [
          { name: 'expert', experts: [0], memoryMB, replicas: functionNames.length, functionNames },
        ],
        experts: [
          {
            expert: 0,
            functionIndex: 0,
            predictedTokens: tokens,
            predictedTokensLow: tokens,
            predictedTokensHigh: tokens,
          },
        ],
      },
    ],
    predicted: { costUsdPerBatch: 0, latencyMs: 0, computeUsd: 0, requestUsd: 0, sloMet: true },
  };
}

/** Runs `fn` and returns how long it took (ms) with its value. */
export async function time<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}
