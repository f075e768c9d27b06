import type { CombineExpertOutputs } from './remote-moe-step.js';

/**
 * Weighted sum of routed expert outputs in token order: for each token, accumulate
 * `weight_k × output_k` over k in router order in float32. Row r of `outputs[e]` is the r-th token
 * (ascending) routed to expert e.
 */
export const combineInTokenOrder: CombineExpertOutputs = ({
  outputs,
  topkIds,
  topkWeights,
  numTokens,
  hiddenSize,
  topK,
}) => {
  const result = new Float32Array(numTokens * hiddenSize);
  const cursor = new Int32Array(outputs.length);
  for (let token = 0; token < numTokens; token++) {
    const base = token * hiddenSize;
    for (let k = 0; k < topK; k++) {
      const expert = topkIds[token * topK + k]!;
      const weight = topkWeights[token * topK + k]!;
      const rows = outputs[expert]!;
      const row = cursor[expert]!++ * hiddenSize;
      for (let h = 0; h < hiddenSize; h++) {
        result[base + h] = Math.fround(result[base + h]! + Math.fround(weight * rows[row + h]!));
      }
    }
  }
  return result;
};
