import * as ort from 'onnxruntime-node';
import type { ModelConfig } from './config.js';
import type { SequenceState } from './sequence-state.js';

/** Largest packed attention mask (query rows × key columns) before inputs are split into separate attention runs. */
const maxPackedMaskEntries = 1 << 18;

/** Splits consecutive inputs into attention groups whose packed mask stays under `maxPackedMaskEntries`. */
export function planAttentionGroups(
  inputs: ReadonlyArray<{ newTokens: number; past: number }>,
  maxEntries = maxPackedMaskEntries,
): Array<{ first: number; end: number }> {
  const groups: Array<{ first: number; end: number }> = [];
  let first = 0;
  let rows = 0;
  let columns = 0;
  for (const [i, input] of inputs.entries()) {
    const nextRows = rows + input.newTokens;
    const nextColumns = columns + input.newTokens + input.past;
    if (i > first && nextRows * nextColumns > maxEntries) {
      groups.push({ first, end: i });
      first = i;
      rows = input.newTokens;
      columns = input.newTokens + input.past;
    } else {
      rows = nextRows;
      columns = nextColumns;
    }
  }
  if (inputs.length > first) groups.push({ first, end: inputs.length });
  return groups;
}

/**
 * Consecutive inputs [first, end) that attend together: their new tokens are the packed rows
 * [start, start + groupT) of the batch, their past keys a packed block of groupP positions.
 */
export interface AttentionGroup {
  first: number;
  end: number;
  start: number;
  groupT: number;
  groupP: number;
  /** Per input of the group, where its past keys start in the packed past block. */
  localPast: number[];
  /** Additive [groupT, groupP + groupT] masks by sliding window (null = full attention). */
  masks: Map<number | null, ort.Tensor>;
  /** Which token sits at each packed key position (for the attention-id feature). */
  keyTokens: Int32Array;
  cos: ort.Tensor;
  sin: ort.Tensor;
}

/**
 * Attention groups of a forward call: consecutive inputs attend together over one packed
 * block-diagonal mask while that mask stays small (decode batches); long prefills get their own
 * group so attention work stays linear in the batch. `cos`/`sin` are the rope tables of all T rows.
 */
export function buildAttentionGroups(
  config: ModelConfig,
  inputs: ReadonlyArray<{ tokens: readonly number[] }>,
  states: readonly SequenceState[],
  tokenStart: readonly number[],
  cos: Float32Array,
  sin: Float32Array,
): AttentionGroup[] {
  const Rd = config.rope.dim;
  const groups = planAttentionGroups(
    inputs.map((input, i) => ({ newTokens: input.tokens.length, past: states[i]!.length })),
  );
  return groups.map(({ first, end }) => {
    const start = tokenStart[first]!;
    let groupT = 0;
    let groupP = 0;
    const localPast: number[] = [];
    for (let i = first; i < end; i++) {
      localPast.push(groupP);
      groupT += inputs[i]!.tokens.length;
      groupP += states[i]!.length;
    }
    const S = groupP + groupT;
    // A sliding window keeps only keys less than `window` positions back.
    const buildMask = (window: number | null): ort.Tensor => {
      const mask = new Float32Array(groupT * S).fill(Number.NEGATIVE_INFINITY);
      for (let i = first; i < end; i++) {
        const past = states[i]!.length;
        const localToken = tokenStart[i]! - start;
        const pastOffset = localPast[i - first]!;
        for (let j = 0; j < inputs[i]!.tokens.length; j++) {
          const row = (localToken + j) * S;
          const position = past + j;
          const firstKey = window === null ? 0 : Math.max(0, position - window + 1);
          if (firstKey < past) mask.fill(0, row + pastOffset + firstKey, row + pastOffset + past);
          mask.fill(
            0,
            row + groupP + localToken + Math.max(0, firstKey - past),
            row + groupP + localToken + j + 1,
          );
        }
      }
      return new ort.Tensor('float32', mask, [groupT, S]);
    };
    const masks = new Map<number | null, ort.Tensor>();
    for (const window of new Set(config.slidingWindows)) masks.set(window, buildMask(window));
    const keyTokens = new Int32Array(S);
    for (let i = first; i < end; i++) {
      keyTokens.set(states[i]!.tokens.slice(0, states[i]!.length), localPast[i - first]!);
      keyTokens.set(inputs[i]!.tokens, groupP + tokenStart[i]! - start);
    }
    return {
      first,
      end,
      start,
      groupT,
      groupP,
      localPast,
      masks,
      keyTokens,
      cos: new ort.Tensor('float32', cos.slice(start * Rd, (start + groupT) * Rd), [groupT, Rd]),
      sin: new ort.Tensor('float32', sin.slice(start * Rd, (start + groupT) * Rd), [groupT, Rd]),
    };
  });
}
