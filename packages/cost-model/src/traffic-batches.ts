import { invalidField } from './errors.js';
import { forwardTokens, paperTokensPerBatch, type Traffic } from './traffic.js';

/** Quantiles of a latency sample, seconds (nearest rank: each is a wait that happened). */
export interface WaitSummary {
  count: number;
  meanS: number;
  p50S: number;
  p95S: number;
  p99S: number;
  maxS: number;
}

/**
 * Core's nearest-rank quantile (the smallest value with at least a share q at or below it) of an
 * ascending array. Core's `quantile` copies and re-sorts its input with a comparator on every call,
 * seconds on the millions of waits of a day; this reads the rank off once sorted (a test holds the two
 * equal).
 */
export function sortedQuantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Summarises waits; all zeros for an empty sample. */
export function summarizeWaits(waitS: ArrayLike<number>): WaitSummary {
  if (waitS.length === 0) return { count: 0, meanS: 0, p50S: 0, p95S: 0, p99S: 0, maxS: 0 };
  // A typed array sorts numerically without a comparator.
  const sorted = Float64Array.from(waitS).sort();
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i]!;
  return {
    count: sorted.length,
    meanS: sum / sorted.length,
    p50S: sortedQuantile(sorted, 0.5),
    p95S: sortedQuantile(sorted, 0.95),
    p99S: sortedQuantile(sorted, 0.99),
    maxS: sorted[sorted.length - 1]!,
  };
}

export interface BatchingOptions {
  /** Tokens per batch (default the paper's 10,240). */
  tokensPerBatch?: number;
  /**
   * Longest a batch waits for tokens after its first one arrived; then it goes out partial
   * (default Infinity: batches always fill, and only the window's last one can be partial).
   */
  maxWaitS?: number;
}

/** The batches a stream becomes. */
export interface TrafficBatches {
  tokensPerBatch: number;
  maxWaitS: number;
  /** When each batch is dispatched (s from the window's start), in order. */
  dispatchS: Float64Array;
  /** Tokens in each batch (= tokensPerBatch unless partial). */
  tokens: Float64Array;
  fullBatches: number;
  partialBatches: number;
  /** From a request's arrival to the dispatch of the batch holding its last token. */
  requestWait: WaitSummary;
}

/**
 * Cuts a stream into batches in the documented way (architecture/traffic.md): requests queue in
 * arrival order and their forward tokens (`forwardTokens`) fill batches of `tokensPerBatch`; a request
 * larger than the room left is split across batches (its tokens are independent rows in a MoE layer:
 * chunked prefill). A batch goes out the moment it is full, or `maxWaitS` after its first token
 * arrived, or at the end of the window — whichever comes first.
 */
export function batchTraffic(traffic: Traffic, options: BatchingOptions = {}): TrafficBatches {
  const tokensPerBatch = options.tokensPerBatch ?? paperTokensPerBatch;
  const maxWaitS = options.maxWaitS ?? Number.POSITIVE_INFINITY;
  if (!(Number.isInteger(tokensPerBatch) && tokensPerBatch > 0))
    throw invalidField('tokensPerBatch', `must be a positive whole number, got ${tokensPerBatch}`);
  if (!(maxWaitS > 0)) throw invalidField('maxWaitS', `must be positive, got ${maxWaitS}`);
  const dispatchS: number[] = [];
  const tokens: number[] = [];
  const waits = new Float64Array(traffic.arrivalS.length);
  let fullBatches = 0;
  let partialBatches = 0;
  let filled = 0;
  let openedS = 0;
  // Requests whose last token sits in the open batch: they wait for its dispatch.
  const pending: number[] = [];
  const dispatch = (atS: number, full: boolean) => {
    dispatchS.push(atS);
    tokens.push(filled);
    if (full) fullBatches++;
    else partialBatches++;
    for (const index of pending) waits[index] = atS - traffic.arrivalS[index]!;
    pending.length = 0;
    filled = 0;
  };
  for (let i = 0; i < traffic.arrivalS.length; i++) {
    const arrivalS = traffic.arrivalS[i]!;
    if (filled > 0 && arrivalS - openedS >= maxWaitS) dispatch(openedS + maxWaitS, false);
    let left = forwardTokens(traffic.promptTokens[i]!, traffic.outputTokens[i]!);
    if (left === 0) continue; // nothing to carry: no wait
    while (left > 0) {
      if (filled === 0) openedS = arrivalS;
      const take = Math.min(left, tokensPerBatch - filled);
      filled += take;
      left -= take;
      if (left === 0) pending.push(i);
      if (filled === tokensPerBatch) dispatch(arrivalS, true);
    }
  }
  if (filled > 0) dispatch(Math.min(openedS + maxWaitS, traffic.durationS), false);
  return {
    tokensPerBatch,
    maxWaitS,
    dispatchS: Float64Array.from(dispatchS),
    tokens: Float64Array.from(tokens),
    fullBatches,
    partialBatches,
    requestWait: summarizeWaits(waits),
  };
}

/**
 * The busiest `windowS`-long window of a stream (sliding; the best window starts at an arrival):
 * `amount(i)` summed over its arrivals, per second of window. A window longer than the stream covers
 * the whole stream.
 */
export function peakPerS(traffic: Traffic, windowS: number, amount: (index: number) => number): number {
  if (!(windowS > 0)) throw invalidField('windowS', `must be positive, got ${windowS}`);
  const window = Math.min(windowS, traffic.durationS);
  let best = 0;
  let sum = 0;
  let start = 0;
  for (let end = 0; end < traffic.arrivalS.length; end++) {
    sum += amount(end);
    while (traffic.arrivalS[end]! - traffic.arrivalS[start]! >= window) sum -= amount(start++);
    if (sum > best) best = sum;
  }
  return best / window;
}
