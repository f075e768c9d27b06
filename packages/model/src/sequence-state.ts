import { ModelError } from './errors.js';

/** One sequence's state: its tokens so far and its KV cache (per layer). Created by `model.createSequence()`. */
export interface Sequence {
  readonly id: number;
  /** Every token fed so far (prompt and generated). */
  readonly tokens: readonly number[];
  /** Positions held in the KV cache. */
  readonly length: number;
}

/** One layer's cached keys and values, [nkv, capacity, D] each. */
export interface LayerCache {
  keys: Float32Array;
  values: Float32Array;
  capacity: number;
}

/** What a `Sequence` is inside the runtime: its tokens, its per-layer KV caches and its flags. */
export class SequenceState implements Sequence {
  tokens: number[] = [];
  length = 0;
  busy = false;
  released = false;
  readonly caches: LayerCache[];
  constructor(
    readonly id: number,
    numLayers: number,
    private readonly keySize: number,
    private readonly valueSize: number,
    private readonly numKvHeads: number,
  ) {
    this.caches = Array.from({ length: numLayers }, () => ({
      keys: new Float32Array(0),
      values: new Float32Array(0),
      capacity: 0,
    }));
  }

  /** Makes room for `needed` positions in a [nkv, capacity, D] cache. */
  reserve(layer: number, needed: number): LayerCache {
    const cache = this.caches[layer]!;
    if (needed <= cache.capacity) return cache;
    const capacity = Math.max(needed, cache.capacity * 2, 16);
    const grow = (old: Float32Array, rowSize: number): Float32Array => {
      const next = new Float32Array(this.numKvHeads * capacity * rowSize);
      for (let h = 0; h < this.numKvHeads; h++) {
        next.set(
          old.subarray(h * cache.capacity * rowSize, (h * cache.capacity + this.length) * rowSize),
          h * capacity * rowSize,
        );
      }
      return next;
    };
    cache.keys = grow(cache.keys, this.keySize);
    cache.values = grow(cache.values, this.valueSize);
    cache.capacity = capacity;
    return cache;
  }

  /** Drops the KV cache; the sequence cannot be used again. */
  release(): void {
    this.released = true;
    for (const cache of this.caches) {
      cache.keys = new Float32Array(0);
      cache.values = new Float32Array(0);
      cache.capacity = 0;
    }
  }
}

/** The runtime state behind a `Sequence`; INVALID_INPUT if it is not one of ours or was released. */
export function sequenceState(sequence: Sequence): SequenceState {
  if (!(sequence instanceof SequenceState))
    throw new ModelError({
      code: 'INVALID_INPUT',
      message: 'not a sequence of this model',
      location: 'sequence',
    });
  if (sequence.released)
    throw new ModelError({
      code: 'INVALID_INPUT',
      message: `sequence ${sequence.id} was released`,
      location: 'sequence',
    });
  return sequence;
}
