/** Recent attempt latencies of one layer, for the hedging quantile. */
export class LatencyWindow {
  private readonly values: number[] = [];
  constructor(private readonly capacity = 256) {}
  add(latencyMs: number): void {
    this.values.push(latencyMs);
    if (this.values.length > this.capacity) this.values.shift();
  }
  get size(): number {
    return this.values.length;
  }
  /**
   * The value at rank ⌊q·n⌋ of the sorted window (0 when empty). One rank above core's nearest-rank
   * `quantile` for most n: hedging waits slightly longer; kept as it was tuned.
   */
  quantile(q: number): number {
    const sorted = [...this.values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  }
}
