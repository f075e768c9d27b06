import { ScatterGatherError } from './errors.js';

/** Tokens routed to each expert of one layer, in stable (ascending) token order. */
export interface ExpertGroups {
  /** `tokens[e]` = token indices routed to expert e, ascending; empty when none. */
  tokens: Int32Array[];
  /** `slots[e][row]` = routing slot `token × topK + k` of that row: where its weight and sum go. */
  slots: Int32Array[];
}

/**
 * Groups the (token, k) routing slots per expert. A token appears once per expert it is routed to,
 * and rows keep token order: the same order the in-process MoE step feeds each expert.
 */
export function groupTokensByExpert(
  topkIds: Int32Array,
  numTokens: number,
  topK: number,
  numExperts: number,
): ExpertGroups {
  if (topkIds.length !== numTokens * topK) {
    throw new ScatterGatherError({
      code: 'INVALID_INPUT',
      message: `topkIds holds ${topkIds.length} ids, expected ${numTokens} tokens × top-${topK}`,
      location: 'MoeStepRequest.topkIds',
    });
  }
  const counts = new Int32Array(numExperts);
  for (let i = 0; i < topkIds.length; i++) {
    const expert = topkIds[i]!;
    if (expert < 0 || expert >= numExperts) {
      throw new ScatterGatherError({
        code: 'INVALID_INPUT',
        message: `token ${Math.floor(i / topK)} is routed to expert ${expert}, outside 0..${numExperts - 1}`,
        location: 'MoeStepRequest.topkIds',
      });
    }
    counts[expert]!++;
  }
  const tokens = Array.from(counts, (count) => new Int32Array(count));
  const slots = Array.from(counts, (count) => new Int32Array(count));
  const filled = new Int32Array(numExperts);
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
