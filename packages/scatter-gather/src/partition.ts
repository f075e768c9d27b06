import type { PlanLayer } from '@switchyard/core';
import { ScatterGatherError } from './errors.js';

/** `count` consecutive rows, from row `start`, of one expert's token list. */
export interface Segment {
  expert: number;
  start: number;
  count: number;
}

/** One invocation's worth of work: segments of one function's experts, sent to one replica. */
export interface MiniBatch {
  /** Position in the layer's dispatch order; also the wire sequence number. */
  index: number;
  functionIndex: number;
  /** Replica preferred for the first attempt. */
  replica: number;
  segments: Segment[];
  tokens: number;
}

export interface PartitionInput {
  layer: PlanLayer;
  /** Tokens routed to each expert (row counts). */
  expertTokenCounts: ArrayLike<number>;
  /** Largest mini-batch in tokens. */
  maxTokensPerBatch: number;
  /** Invocations already in flight per deployed function name (other layers, other requests). */
  inFlight?: (functionName: string) => number;
}

/**
 * Splits integer `total` in proportion to `weights` (largest remainder; ties to the lower index),
 * so shares always add up to `total`.
 */
export function splitProportionally(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum <= 0) return weights.map((_, i) => (i === 0 ? total : 0));
  const exact = weights.map((w) => (total * w) / sum);
  const shares = exact.map(Math.floor);
  let left = total - shares.reduce((a, b) => a + b, 0);
  const order = exact
    .map((value, i) => ({ i, rest: value - Math.floor(value) }))
    .sort((a, b) => b.rest - a.rest || a.i - b.i);
  for (let j = 0; left > 0; j = (j + 1) % order.length, left--) shares[order[j]!.i]!++;
  return shares;
}

/**
 * Plans the mini-batches of one layer. Each function's experts form one stream (experts in the
 * function's order, each expert's rows in token order); replicas get contiguous ranges of it, sized
 * in proportion to capacity (equal for replicas of one function) discounted by their in-flight load,
 * and each range is cut into mini-batches of at most `maxTokensPerBatch` tokens. A mini-batch of a
 * packed function may span several experts: one message, several segments.
 */
export function partitionLayer(input: PartitionInput): MiniBatch[] {
  const { layer, expertTokenCounts, maxTokensPerBatch } = input;
  if (!(maxTokensPerBatch >= 1)) {
    throw new ScatterGatherError({
      code: 'INVALID_CONFIG',
      message: `a mini-batch must hold at least one token (got ${maxTokensPerBatch}); the hidden size may not fit the payload limit`,
      layer: layer.layer,
    });
  }
  const served = new Set<number>();
  const perReplica: MiniBatch[][] = [];
  layer.functions.forEach((fn, functionIndex) => {
    const experts = fn.experts.filter((expert) => (expertTokenCounts[expert] ?? 0) > 0);
    for (const expert of fn.experts) served.add(expert);
    const total = experts.reduce((sum, expert) => sum + expertTokenCounts[expert]!, 0);
    if (total === 0) return;
    const weights = fn.functionNames.map((name) => 1 / (1 + (input.inFlight?.(name) ?? 0)));
    const shares = splitProportionally(total, weights);
    let expertCursor = 0;
    let rowCursor = 0;
    shares.forEach((share, replica) => {
      const batches: MiniBatch[] = [];
      let remaining = share;
      while (remaining > 0) {
        const size = Math.min(remaining, maxTokensPerBatch);
        const segments: Segment[] = [];
        let need = size;
        while (need > 0) {
          const expert = experts[expertCursor]!;
          const available = expertTokenCounts[expert]! - rowCursor;
          const take = Math.min(available, need);
          segments.push({ expert, start: rowCursor, count: take });
          need -= take;
          rowCursor += take;
          if (rowCursor === expertTokenCounts[expert]) {
            expertCursor++;
            rowCursor = 0;
          }
        }
        batches.push({ index: -1, functionIndex, replica, segments, tokens: size });
        remaining -= size;
      }
      perReplica.push(batches);
    });
  });
  for (let expert = 0; expert < expertTokenCounts.length; expert++) {
    if ((expertTokenCounts[expert] ?? 0) > 0 && !served.has(expert)) {
      throw new ScatterGatherError({
        code: 'PLAN_INVALID',
        message: `layer ${layer.layer} routes ${expertTokenCounts[expert]} tokens to expert ${expert}, but no function of the plan holds it`,
        layer: layer.layer,
        experts: [expert],
      });
    }
  }
  // Round-robin over replicas so every function starts at once; longest queues first within a round.
  perReplica.sort((a, b) => b.length - a.length);
  const order: MiniBatch[] = [];
  for (let round = 0; order.length < perReplica.reduce((n, q) => n + q.length, 0); round++) {
    for (const queue of perReplica) {
      const batch = queue[round];
      if (batch) order.push({ ...batch, index: order.length });
    }
  }
  return order;
}
