import { KeyTable } from './key-table.js';

/** Counts of one back-off level: one row per context seen, E expert counts per row. */
export class CountLevel {
  readonly table: KeyTable;
  parents: Int32Array;
  counts: Float64Array;
  totals: Float64Array;
  rows = 0;

  constructor(
    readonly numExperts: number,
    expectedRows = 16,
  ) {
    const capacity = Math.max(4, expectedRows);
    this.table = new KeyTable(capacity);
    this.parents = new Int32Array(capacity);
    this.counts = new Float64Array(capacity * numExperts);
    this.totals = new Float64Array(capacity);
  }

  /** Row of `key`, creating it under `parent` if absent. */
  rowFor(key: number, parent: number): number {
    const found = this.table.find(key);
    if (found !== -1) return found;
    if (this.rows === this.parents.length) this.grow();
    const row = this.rows++;
    this.parents[row] = parent;
    this.table.insert(key, row);
    return row;
  }

  /**
   * Row of `key` under `parent`, creating it if absent, with a single probe sequence. Grows only the
   * parents: call `fitCapacity()` before counting.
   */
  rowOf(key: number, parent: number): number {
    const row = this.table.findOrInsert(key, this.rows);
    if (row !== this.rows) return row;
    if (this.rows === this.parents.length) {
      const parents = new Int32Array(this.parents.length * 2);
      parents.set(this.parents);
      this.parents = parents;
    }
    this.parents[row] = parent;
    this.rows++;
    return row;
  }

  /** Sizes parents, counts and totals to the rows (+ 1/8 headroom for online growth); counts kept. */
  fitCapacity(): void {
    const capacity = Math.max(4, this.rows + (this.rows >> 3));
    const E = this.numExperts;
    const parents = new Int32Array(capacity);
    parents.set(this.parents.subarray(0, this.rows));
    const counts = new Float64Array(capacity * E);
    counts.set(this.counts.subarray(0, Math.min(this.counts.length, this.rows * E)));
    const totals = new Float64Array(capacity);
    totals.set(this.totals.subarray(0, Math.min(this.totals.length, this.rows)));
    this.parents = parents;
    this.counts = counts;
    this.totals = totals;
  }

  /** Own copies of the table and parents, zero counts (the same contexts for another layer). */
  cloneStructure(): CountLevel {
    const copy = Object.create(CountLevel.prototype) as CountLevel;
    const capacity = Math.max(4, this.rows + (this.rows >> 3));
    const parents = new Int32Array(capacity);
    parents.set(this.parents.subarray(0, this.rows));
    Object.assign(copy, {
      numExperts: this.numExperts,
      table: this.table.clone(),
      parents,
      counts: new Float64Array(capacity * this.numExperts),
      totals: new Float64Array(capacity),
      rows: this.rows,
    });
    return copy;
  }

  private grow(): void {
    const capacity = this.parents.length * 2;
    const parents = new Int32Array(capacity);
    parents.set(this.parents);
    const counts = new Float64Array(capacity * this.numExperts);
    counts.set(this.counts);
    const totals = new Float64Array(capacity);
    totals.set(this.totals);
    this.parents = parents;
    this.counts = counts;
    this.totals = totals;
  }
}
