import { inputError } from './errors.js';
import { laneKey, mixA, mixB } from './key-table.js';

/**
 * A batch of tokens to predict (or observe). Arrays are flat, row-major, like a routing trace.
 * Token t's preceding tokens are taken from the batch itself (t − 1, t − 2, …) as far back as its
 * position allows, unless `contextTokenIds` gives them (decode batches, where the history is
 * elsewhere).
 */
export interface TokenBatch {
  /** [T] token ids. */
  tokens: Int32Array;
  /** [T] position of each token in its sequence; default: index mod the predictor's chunk. */
  positions?: Int32Array;
  /** [T × C] the C preceding token ids of each token, most recent first; −1 = none (C = contextTokens). */
  contextTokenIds?: Int32Array;
  /** [L, T, K] actual routing per MoE layer; layer l − 1's row is a feature of layer l. */
  topkIds?: Int16Array | Int32Array | Uint8Array;
  /** [L, T] paper f3 "attention id" per MoE layer. */
  attentionIds?: Int32Array;
}

/** The feature levels of the back-off ladder, coarse to fine. Each level refines the one before. */
export const levelKinds = ['global', 'token', 'attention', 'context', 'previousLayer', 'position'] as const;
export type LevelKind = (typeof levelKinds)[number];

/** Where a level's feature is missing for a token, its key (and every finer key) is NaN. */
export const missingKey = Number.NaN;

const seedA = 0x2545f491;
const seedB = 0x6c8e9cf5;

export interface KeyContext {
  numLayers: number;
  topK: number;
  chunk: number;
  contextTokens: number;
}

/** Checks a batch's array shapes against the predictor; throws INVALID_INPUT naming the field. */
export function validateBatch(batch: TokenBatch, context: KeyContext, numExperts: number): number {
  const T = batch.tokens.length;
  if (batch.positions && batch.positions.length !== T)
    throw inputError(`positions has ${batch.positions.length} entries, tokens has ${T}`, 'batch.positions');
  if (batch.contextTokenIds && batch.contextTokenIds.length !== T * context.contextTokens)
    throw inputError(
      `contextTokenIds has ${batch.contextTokenIds.length} entries, expected ${T} tokens × ${context.contextTokens}`,
      'batch.contextTokenIds',
    );
  if (batch.topkIds) {
    const expected = context.numLayers * T * context.topK;
    if (batch.topkIds.length !== expected)
      throw inputError(
        `topkIds has ${batch.topkIds.length} entries, expected ${context.numLayers} layers × ${T} tokens × ${context.topK}`,
        'batch.topkIds',
      );
    for (let i = 0; i < batch.topkIds.length; i++) {
      const id = batch.topkIds[i]!;
      if (id < 0 || id >= numExperts)
        throw inputError(`expert id ${id} is outside 0..${numExperts - 1}`, `batch.topkIds[${i}]`);
    }
  }
  if (batch.attentionIds && batch.attentionIds.length !== context.numLayers * T)
    throw inputError(
      `attentionIds has ${batch.attentionIds.length} entries, expected ${context.numLayers} × ${T}`,
      'batch.attentionIds',
    );
  return T;
}

/**
 * Fills `keys` ([levels × T], level-major) with the context key of every token at every level of
 * `ladder` for MoE layer `layer`. Keys nest: a level's hash continues its parent's, so a context seen
 * at a fine level was seen at every coarser one.
 */
export function computeLevelKeys(
  batch: TokenBatch,
  layer: number,
  ladder: readonly LevelKind[],
  context: KeyContext,
  keys: Float64Array,
  lanes: {
    /** Store every token's hash lanes after level `save.level` (for `resume` on another layer). */
    save?: HashLanes;
    /** Start after level `resume.level` from saved lanes; keys of levels ≤ it are already in `keys`. */
    resume?: HashLanes;
  } = {},
): void {
  const { tokens, positions, contextTokenIds, topkIds, attentionIds } = batch;
  const T = tokens.length;
  const K = context.topK;
  const C = context.contextTokens;
  const { save, resume } = lanes;
  const firstLevel = resume ? resume.level + 1 : 0;
  let resumedContexts = 0;
  for (let level = 0; level < firstLevel; level++) if (ladder[level] === 'context') resumedContexts++;
  let contextLevel = 0;
  for (let t = 0; t < T; t++) {
    let a = resume ? resume.laneA[t]! : seedA;
    let b = resume ? resume.laneB[t]! : seedB;
    const position = positions ? positions[t]! : t % context.chunk;
    let missing = false;
    contextLevel = resumedContexts;
    for (let level = firstLevel; level < ladder.length; level++) {
      if (save && level === save.level + 1) {
        save.laneA[t] = a;
        save.laneB[t] = b;
      }
      const kind = ladder[level]!;
      let value = 0;
      if (!missing) {
        switch (kind) {
          case 'global':
            value = 1;
            break;
          case 'token':
            value = tokens[t]! + 1;
            break;
          case 'attention':
            if (attentionIds) value = attentionIds[layer * T + t]! + 1;
            else missing = true;
            break;
          case 'context': {
            contextLevel++;
            let previous = -1;
            if (contextTokenIds) previous = contextTokenIds[t * C + contextLevel - 1]!;
            else if (position >= contextLevel && t >= contextLevel) previous = tokens[t - contextLevel]!;
            value = previous + 2;
            break;
          }
          case 'previousLayer':
            if (topkIds && layer > 0) {
              // Order-free hash of the previous layer's expert set.
              let setA = 0;
              let setB = 0;
              const base = ((layer - 1) * T + t) * K;
              for (let j = 0; j < K; j++) {
                setA = (setA + mixA(0x51ed27, topkIds[base + j]! + 1)) | 0;
                setB = (setB + mixB(0x3c6ef3, topkIds[base + j]! + 1)) | 0;
              }
              a = mixA(a, setA);
              b = mixB(b, setB);
              keys[level * T + t] = laneKey(a, b);
              continue;
            }
            missing = true;
            break;
          case 'position':
            value = 32 - Math.clz32(position) + 1; // log2 bucket
            break;
        }
      }
      if (missing) {
        keys[level * T + t] = missingKey;
        continue;
      }
      a = mixA(a, value);
      b = mixB(b, value);
      keys[level * T + t] = laneKey(a, b);
    }
    if (save && save.level === ladder.length - 1) {
      save.laneA[t] = a;
      save.laneB[t] = b;
    }
  }
}

/** Every token's two hash lanes after a given level (see computeLevelKeys). */
export interface HashLanes {
  laneA: Int32Array;
  laneB: Int32Array;
  level: number;
}
