/**
 * Hashing of feature contexts and an open-addressing table from context key to row index, on typed
 * arrays (no per-token allocation). A context is hashed into two 32-bit lanes; its key is the 52-bit
 * number built from both (collision odds ≈ rows² / 2⁵³, negligible at the sizes we store).
 */

/** Mixes a value into lane A (murmur3-style finaliser). */
export function mixA(hash: number, value: number): number {
  let h = Math.imul(hash ^ value, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h | 0;
}

/** Mixes a value into lane B (different constants, independent of lane A). */
export function mixB(hash: number, value: number): number {
  let h = Math.imul(hash ^ value, 0x7feb352d);
  h ^= h >>> 16;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 15;
  return h | 0;
}

/** The 52-bit key of a context from its two lanes. */
export function laneKey(laneA: number, laneB: number): number {
  return (laneA >>> 0) * 1_048_576 + (laneB >>> 12);
}

/** A slot hint reproducible from the key alone. */
function slotOf(key: number): number {
  // Floor division rather than % (which is a slow fmod call on doubles).
  const high = Math.floor(key / 1_048_576);
  const low = key - high * 1_048_576;
  return (high ^ Math.imul(low, 0x9e3779b1)) | 0;
}

/** Context key → row index. Keys are non-negative finite numbers below 2⁵². */
export class KeyTable {
  private keys: Float64Array;
  private rows: Int32Array;
  private mask: number;
  size = 0;

  constructor(expectedSize = 32) {
    let capacity = 16;
    while (capacity < expectedSize * 2) capacity *= 2;
    this.keys = new Float64Array(capacity);
    this.rows = new Int32Array(capacity).fill(-1);
    this.mask = capacity - 1;
  }

  /** Row of `key`, or −1. */
  find(key: number): number {
    let slot = slotOf(key) & this.mask;
    for (;;) {
      const row = this.rows[slot]!;
      if (row === -1) return -1;
      if (this.keys[slot] === key) return row;
      slot = (slot + 1) & this.mask;
    }
  }

  /** Row of `key`; if absent, inserts it with row `newRow` and returns `newRow` (one probe sequence). */
  findOrInsert(key: number, newRow: number): number {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    let slot = slotOf(key) & this.mask;
    for (;;) {
      const row = this.rows[slot]!;
      if (row === -1) {
        this.keys[slot] = key;
        this.rows[slot] = newRow;
        this.size++;
        return newRow;
      }
      if (this.keys[slot] === key) return row;
      slot = (slot + 1) & this.mask;
    }
  }

  /** An independent copy. */
  clone(): KeyTable {
    const copy = Object.create(KeyTable.prototype) as KeyTable;
    copy.keys = this.keys.slice();
    copy.rows = this.rows.slice();
    copy.mask = this.mask;
    copy.size = this.size;
    return copy;
  }

  /** Inserts a key known to be absent. */
  insert(key: number, row: number): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    this.place(key, row);
    this.size++;
  }

  /** Calls `visit(key, row)` for every entry. */
  forEach(visit: (key: number, row: number) => void): void {
    for (let i = 0; i < this.keys.length; i++) if (this.rows[i] !== -1) visit(this.keys[i]!, this.rows[i]!);
  }

  private place(key: number, row: number): void {
    let slot = slotOf(key) & this.mask;
    while (this.rows[slot] !== -1) slot = (slot + 1) & this.mask;
    this.keys[slot] = key;
    this.rows[slot] = row;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldRows = this.rows;
    this.keys = new Float64Array(oldKeys.length * 2);
    this.rows = new Int32Array(oldKeys.length * 2).fill(-1);
    this.mask = this.keys.length - 1;
    for (let i = 0; i < oldKeys.length; i++) if (oldRows[i] !== -1) this.place(oldKeys[i]!, oldRows[i]!);
  }
}
