import {
  combineExpertOutputs,
  type ExpertBatchOutput,
  gatherRows,
  groupTokensByExpert,
  type MoeStep,
} from '@switchyard/core';

/** Something that runs one expert's FFN over [n, H] rows. */
export interface ExpertExecutor {
  run(layer: number, expert: number, hiddenStates: Float32Array, numTokens: number): Promise<Float32Array>;
}

/**
 * The in-process MoeStep: each selected expert runs ONCE over all of its tokens (one batch of
 * `tokens.length` rows), then `combineExpertOutputs`. A remote implementation reproduces it bit for
 * bit by sending each expert the same single batch (see README on batch-size dependence).
 */
export function createInProcessMoeStep(executor: ExpertExecutor): MoeStep {
  return async (request) => {
    const groups = groupTokensByExpert(request.topkIds, request.numTokens, request.topK);
    const outputs = new Map<number, ExpertBatchOutput>();
    for (let expert = 0; expert < groups.tokens.length; expert++) {
      const tokens = groups.tokens[expert]!;
      if (tokens.length === 0) continue;
      request.signal?.throwIfAborted();
      const input = new Float32Array(tokens.length * request.hiddenSize);
      gatherRows(request.hiddenStates, request.hiddenSize, tokens, input);
      const output = await executor.run(request.layer, expert, input, tokens.length);
      outputs.set(expert, { tokens, output });
    }
    return combineExpertOutputs(request, outputs);
  };
}
