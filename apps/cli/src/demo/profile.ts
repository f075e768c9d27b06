import type { ExpertQuantization } from '@switchyard/core';
import { type ComputePoint, measureComputePoints } from '@switchyard/cost-model';
import { buildExpertGraph, createExpertRunner, type ExpertRunner, type MoeModel } from '@switchyard/model';

/**
 * Measures one expert's compute in process with cost-model's `measureComputePoints` at several
 * thread counts (the vCPUs Lambda memory sizes buy) and token counts: 5 untimed runs per cell first (a
 * session's first runs are several times slower), then the median of `repetitions` interleaved runs,
 * the statistic the committed profiles keep.
 */
export async function measureExpertPoints(
  model: MoeModel,
  options: {
    layer: number;
    expert: number;
    threadCounts: readonly number[];
    tokenCounts: readonly number[];
    repetitions: number;
    /** The graph's format; default the model's. */
    quantization?: ExpertQuantization;
    onPoint?: (done: number, total: number) => void;
  },
): Promise<ComputePoint[]> {
  const graph = buildExpertGraph(model, options.layer, options.expert, {
    quantization: options.quantization,
  });
  const hiddenSize = model.summary.hiddenSize;
  const maxTokens = Math.max(...options.tokenCounts);
  // Deterministic, non-zero activations (no sparsity shortcuts).
  const input = new Float32Array(maxTokens * hiddenSize);
  for (let i = 0; i < input.length; i++) input[i] = Math.sin(i * 0.7) * 0.5;
  const runners = new Map<number, ExpertRunner>();
  const total = options.threadCounts.length * options.tokenCounts.length;
  let done = 0;
  try {
    return await measureComputePoints({
      tokenCounts: options.tokenCounts,
      threadCounts: options.threadCounts,
      repetitions: options.repetitions,
      warmup: 5,
      statistic: 'median',
      interleave: true,
      runExpert: async (tokens, threads) => {
        let runner = runners.get(threads);
        if (!runner) {
          runner = await createExpertRunner(graph, { threads });
          runners.set(threads, runner);
        }
        const started = performance.now();
        await runner.run(input.subarray(0, tokens * hiddenSize), tokens);
        return performance.now() - started;
      },
      onProgress: () => options.onPoint?.(++done, total),
    });
  } finally {
    for (const runner of runners.values()) await runner.close();
  }
}
