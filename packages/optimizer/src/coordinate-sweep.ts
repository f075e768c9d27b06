import type { SearchSpace } from './search-space.js';

/**
 * The Power-Tuning-style baseline strategy: every grid value of one dimension around the incumbent
 * (the middle of every grid before there is one), then the next dimension, until a full round of
 * dimensions adds nothing new.
 */
export class CoordinateSweep {
  private dimension = 0;
  private queue: number[][] = [];
  /** Dimensions in a row that had no untried value. */
  private unproductive = 0;

  constructor(private readonly space: SearchSpace) {}

  /**
   * The next point of the sweep, or undefined when it is done or must wait for pending results (a
   * new dimension's sweep starts from the incumbent, which they may change).
   */
  next(
    pendingCount: number,
    incumbent: number[] | undefined,
    isTaken: (vector: readonly number[]) => boolean,
  ): number[] | undefined {
    const dimensions = this.space.dimensions.length;
    while (this.queue.length === 0) {
      if (pendingCount > 0) return undefined;
      if (this.unproductive >= dimensions) return undefined;
      const base =
        incumbent ??
        this.space.dimensions.map((_, d) => {
          const grid = this.space.gridValues(d);
          return grid[Math.floor(grid.length / 2)]!;
        });
      const d = this.dimension;
      this.dimension = (d + 1) % dimensions;
      const queue: number[][] = [];
      const baseVector = [...base];
      if (!incumbent && !isTaken(baseVector)) queue.push(baseVector);
      for (const value of this.space.gridValues(d)) {
        const vector = [...base];
        vector[d] = value;
        if (!isTaken(vector) && !queue.some((q) => this.space.key(q) === this.space.key(vector)))
          queue.push(vector);
      }
      this.unproductive = queue.length === 0 ? this.unproductive + 1 : 0;
      this.queue = queue;
    }
    return this.queue.shift();
  }
}
