import { type ExpertStats, type LayerStats, zeroInvocationCounters } from './events.js';
import type { MiniBatch } from './partition.js';

/** Running totals of one layer call: the layer's `LayerStats` and one `ExpertStats` per routed expert. */
export class LayerStatsRecorder {
  readonly stats: LayerStats;
  private readonly experts = new Map<number, ExpertStats>();

  constructor(options: {
    layer: number;
    method: string;
    beta: number;
    numTokens: number;
    /** Tokens routed to each expert (index = expert id). */
    expertTokenCounts: readonly number[];
    miniBatches: number;
  }) {
    for (const [expert, count] of options.expertTokenCounts.entries()) {
      if (count === 0) continue;
      this.experts.set(expert, {
        expert,
        tokens: count,
        miniBatches: 0,
        requestBytes: 0,
        responseBytes: 0,
        maxLatencyMs: 0,
        billedDurationMs: 0,
        retries: 0,
        hedges: 0,
      });
    }
    this.stats = {
      layer: options.layer,
      method: options.method,
      beta: options.beta,
      tokens: options.numTokens,
      rows: options.expertTokenCounts.reduce((a, b) => a + b, 0),
      miniBatches: options.miniBatches,
      ...zeroInvocationCounters(),
      computeDurationMs: 0,
      wallMs: 0,
      experts: [],
    };
  }

  /** Applies `update` to each expert of the mini-batch, with the expert's share of its tokens. */
  account(batch: MiniBatch, update: (stats: ExpertStats, share: number) => void): void {
    for (const segment of batch.segments)
      update(this.experts.get(segment.expert)!, segment.count / batch.tokens);
  }

  /** The finished layer's stats (the experts in routing order). */
  finish(wallMs: number): LayerStats {
    this.stats.wallMs = wallMs;
    this.stats.experts = [...this.experts.values()];
    return this.stats;
  }
}
