import { inferenceError } from './errors.js';

/** One MoE layer's routed-expert work for a batch of tokens (the seam scatter-gather takes over). */
export interface MoeStepRequest {
  /** Decoder layer index. */
  layer: number;
  /** [T*H] the MoE block's input (after the post-attention norm). */
  hiddenStates: Float32Array;
  numTokens: number;
  hiddenSize: number;
  topK: number;
  /** [T*K] expert ids in router order. */
  topkIds: Int32Array;
  /** [T*K] final combine weights (after renormalisation / scaling). */
  topkWeights: Float32Array;
  signal?: AbortSignal;
}

/** Returns the weighted sum of routed-expert outputs [T*H]. Shared experts stay in process. */
export type MoeStep = (request: MoeStepRequest) => Promise<Float32Array>;

/** The tokens routed to one expert (increasing token order) and that expert's output rows for them. */
export interface ExpertBatchOutput {
  /** Token indices (rows of the request), increasing. */
  tokens: Int32Array;
  /** [tokens.length * H] expert output rows, in `tokens` order. */
  output: Float32Array;
}

/**
 * Groups a request's tokens by expert: expert id → increasing token indices (a token appears once per
 * expert even if, pathologically, an expert were chosen twice). Every MoeStep implementation should
 * gather with this so that expert inputs are identical.
 */
export function groupTokensByExpert(
  topkIds: Int32Array,
  numTokens: number,
  topK: number,
): Map<number, Int32Array> {
  const lists = new Map<number, number[]>();
  for (let t = 0; t < numTokens; t++) {
    for (let k = 0; k < topK; k++) {
      const expert = topkIds[t * topK + k]!;
      let list = lists.get(expert);
      if (!list) {
        list = [];
        lists.set(expert, list);
      }
      if (list[list.length - 1] !== t) list.push(t);
    }
  }
  const sorted = [...lists.keys()].sort((a, b) => a - b);
  return new Map(sorted.map((expert) => [expert, Int32Array.from(lists.get(expert)!)]));
}

/** Copies rows `tokens` of a [T, H] matrix into a contiguous [tokens.length, H] matrix. */
export function gatherRows(hiddenStates: Float32Array, tokens: Int32Array, hiddenSize: number): Float32Array {
  const out = new Float32Array(tokens.length * hiddenSize);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    out.set(hiddenStates.subarray(t * hiddenSize, (t + 1) * hiddenSize), i * hiddenSize);
  }
  return out;
}

/**
 * Weighted sum of expert outputs, accumulated in float32 in router (k) order:
 * out[t] = ((0 + w[t,0]·y[e0][t]) + w[t,1]·y[e1][t]) + … with every product and sum rounded to float32.
 * Any MoeStep that feeds it the same per-expert rows produces bit-identical results.
 */
export function combineExpertOutputs(
  request: Pick<MoeStepRequest, 'numTokens' | 'hiddenSize' | 'topK' | 'topkIds' | 'topkWeights'>,
  expertOutputs: ReadonlyMap<number, ExpertBatchOutput>,
): Float32Array {
  const { numTokens, hiddenSize: H, topK, topkIds, topkWeights } = request;
  const out = new Float32Array(numTokens * H);
  // Row of token t inside each expert's output, found by binary search over the increasing token list.
  const rowOf = (batch: ExpertBatchOutput, token: number): number => {
    let low = 0;
    let high = batch.tokens.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const value = batch.tokens[mid]!;
      if (value === token) return mid;
      if (value < token) low = mid + 1;
      else high = mid - 1;
    }
    return -1;
  };
  for (let t = 0; t < numTokens; t++) {
    const base = t * H;
    for (let k = 0; k < topK; k++) {
      const expert = topkIds[t * topK + k]!;
      const batch = expertOutputs.get(expert);
      const row = batch ? rowOf(batch, t) : -1;
      if (!batch || row < 0)
        throw inferenceError(`no output of expert ${expert} for token ${t}`, `expert ${expert}`);
      if (batch.output.length !== batch.tokens.length * H)
        throw inferenceError(
          `expert ${expert} returned ${batch.output.length} values for ${batch.tokens.length} tokens × ${H}`,
          `expert ${expert}`,
        );
      const weight = Math.fround(topkWeights[t * topK + k]!);
      const rowBase = row * H;
      for (let h = 0; h < H; h++) {
        out[base + h] = out[base + h]! + Math.fround(weight * batch.output[rowBase + h]!);
      }
    }
  }
  return out;
}

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
    for (const [expert, tokens] of groups) {
      request.signal?.throwIfAborted();
      const input = gatherRows(request.hiddenStates, tokens, request.hiddenSize);
      const output = await executor.run(request.layer, expert, input, tokens.length);
      outputs.set(expert, { tokens, output });
    }
    return combineExpertOutputs(request, outputs);
  };
}
