import { cpus } from 'node:os';
import type { ExpertQuantization } from '@switchyard/core';
import {
  type ComputeProfile,
  fitComputeProfile,
  measureComputePoints,
  parseComputeProfile,
} from '@switchyard/cost-model';
import { buildSwigluGraph, createExpertRunner } from '@switchyard/model';

/**
 * Profiles one expert of the paper's shape (hidden 768, FFN 3072; random seeded weights) with
 * onnxruntime-node at 1 and 2 threads. The graph is the repo's SwiGLU expert (3 matrices), so its
 * compute is 1.5× a BERT FFN's 2 matrices: every row of the benchmark uses this same profile.
 */
export async function profilePaperExpert(options: {
  tokenCounts?: number[];
  repetitions?: number;
  hiddenSize?: number;
  intermediateSize?: number;
  /** The expert's weight format (float32 when absent). */
  quantization?: ExpertQuantization;
}): Promise<ComputeProfile> {
  const H = options.hiddenSize ?? 768;
  const I = options.intermediateSize ?? 3072;
  let state = 7;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296 - 0.5;
  };
  const scale = 2 / Math.sqrt(H);
  const weights = (n: number) => Float32Array.from({ length: n }, () => random() * scale);
  const graph = buildSwigluGraph(
    { hiddenSize: H, intermediateSize: I, gate: weights(I * H), up: weights(I * H), down: weights(H * I) },
    'paper_expert',
    options.quantization,
  );
  const tokenCounts = options.tokenCounts ?? [64, 512, 2048];
  const runners = new Map([
    [1, await createExpertRunner(graph, { threads: 1 })],
    [2, await createExpertRunner(graph, { threads: 2 })],
  ]);
  const input = Float32Array.from({ length: Math.max(...tokenCounts) * H }, () => random());
  try {
    const points = await measureComputePoints({
      runExpert: async (tokens, threads) => {
        const started = performance.now();
        await runners.get(threads)!.run(input.subarray(0, tokens * H), tokens);
        return performance.now() - started;
      },
      tokenCounts,
      threadCounts: [1, 2],
      repetitions: options.repetitions ?? 3,
      warmup: 1,
      statistic: 'min',
      interleave: true,
    });
    return parseComputeProfile(
      fitComputeProfile(points, {
        subject: {
          model: `paper expert ${H}x${I}`,
          hiddenSize: H,
          intermediateSize: I,
          experts: `one SwiGLU expert of the real shape, seeded random weights in ${options.quantization?.format === 'int8' || options.quantization?.format === 'int4' ? options.quantization.format : 'float32'}`,
          quantization: options.quantization,
        },
        machine: {
          description: `${cpus()[0]?.model ?? 'unknown CPU'} (onnxruntime-node CPU)`,
          logicalCpus: cpus().length,
        },
      }),
    );
  } finally {
    for (const runner of runners.values()) await runner.close();
  }
}
