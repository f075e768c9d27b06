import { SwitchyardError } from './errors.js';

/**
 * The MoE seam: what the orchestrator's model hands to whatever runs the routed experts (in process,
 * or scatter-gather over functions), and the grouping and combining both sides must share so their
 * results are bit-identical.
 */

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
  /**
   * [T*H] memory the step may write its result into (and return) instead of allocating a fresh
   * array: a caller that runs layer after layer can hand the same buffer back each time and spare
   * the step a fresh T × H allocation, its page faults and its garbage. Every value is overwritten;
   * the caller must not read or write it until the step settles (after a failure its contents are
   * unspecified), and it must not overlap `hiddenStates`. A step may ignore it: always use the
   * returned array.
   */
  output?: Float32Array;
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
        throw new SwitchyardError({
          code: 'INFERENCE_FAILED',
          message: `no output of expert ${expert} for token ${t}`,
          location: `expert ${expert}`,
        });
      if (batch.output.length !== batch.tokens.length * H)
        throw new SwitchyardError({
          code: 'INFERENCE_FAILED',
          message: `expert ${expert} returned ${batch.output.length} values for ${batch.tokens.length} tokens × ${H}`,
          location: `expert ${expert}`,
        });
      const weight = Math.fround(topkWeights[t * topK + k]!);
      const rowBase = row * H;
      for (let h = 0; h < H; h++) {
        out[base + h] = out[base + h]! + Math.fround(weight * batch.output[rowBase + h]!);
      }
    }
  }
  return out;
}

/** Tokens routed to each expert of one layer, in stable (ascending) token order. */
export interface ExpertGroups {
  /** `tokens[e]` = token indices routed to expert e, ascending; empty when none. */
  tokens: Int32Array[];
  /** `slots[e][row]` = routing slot `token × topK + k` of that row: where its weight and sum go. */
  slots: Int32Array[];
}

/**
 * Groups the (token, k) routing slots per expert: one row per slot, rows in token order. Every MoeStep
 * (in process or remote) groups with this, so each expert sees the same rows in the same order.
 */
export function groupTokensByExpert(
  topkIds: Int32Array,
  numTokens: number,
  topK: number,
  /** Experts in the layer; ids must be below it. Default: the largest id routed to, plus one. */
  numExperts?: number,
): ExpertGroups {
  if (topkIds.length !== numTokens * topK) {
    throw new SwitchyardError({
      code: 'INVALID_INPUT',
      message: `topkIds holds ${topkIds.length} ids, expected ${numTokens} tokens × top-${topK}`,
      location: 'MoeStepRequest.topkIds',
    });
  }
  let expertCount = numExperts ?? 0;
  if (numExperts === undefined)
    for (let i = 0; i < topkIds.length; i++) expertCount = Math.max(expertCount, topkIds[i]! + 1);
  const counts = new Int32Array(expertCount);
  for (let i = 0; i < topkIds.length; i++) {
    const expert = topkIds[i]!;
    if (expert < 0 || expert >= expertCount) {
      throw new SwitchyardError({
        code: 'INVALID_INPUT',
        message: `token ${Math.floor(i / topK)} is routed to expert ${expert}, outside 0..${expertCount - 1}`,
        location: 'MoeStepRequest.topkIds',
      });
    }
    counts[expert]!++;
  }
  const tokens = Array.from(counts, (count) => new Int32Array(count));
  const slots = Array.from(counts, (count) => new Int32Array(count));
  const filled = new Int32Array(expertCount);
  for (let token = 0; token < numTokens; token++) {
    for (let k = 0; k < topK; k++) {
      const slot = token * topK + k;
      const expert = topkIds[slot]!;
      const row = filled[expert]!++;
      tokens[expert]![row] = token;
      slots[expert]![row] = slot;
    }
  }
  return { tokens, slots };
}

/** Copies the rows of `tokens` (a slice of an expert's token list) into one contiguous block. */
export function gatherRows(
  hiddenStates: Float32Array,
  hiddenSize: number,
  tokens: Int32Array,
  target: Float32Array,
  targetRow = 0,
): void {
  for (let i = 0; i < tokens.length; i++) {
    const source = tokens[i]! * hiddenSize;
    target.set(hiddenStates.subarray(source, source + hiddenSize), (targetRow + i) * hiddenSize);
  }
}
