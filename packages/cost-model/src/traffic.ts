import { type RandomSource, randomInteger } from '@switchyard/core';
import { z } from 'zod';
import { CostModelError, invalidField } from './errors.js';

/** The paper's batch: 10,240 tokens through every MoE layer (architecture/paper.md). */
export const paperTokensPerBatch = 10_240;

/** How large one request is: its prompt and the tokens it generated. */
export interface RequestSize {
  promptTokens: number;
  outputTokens: number;
}

/**
 * A stream of requests over a window. Columnar, because a day of traffic can hold millions of
 * requests: request i arrives at `arrivalS[i]` with `promptTokens[i]` and `outputTokens[i]`.
 */
export interface Traffic {
  /** What it is, e.g. `azure-llm-2023/conversation ×2` or `poisson 5.5/s`. */
  name: string;
  /** The window's length; every arrival lies in [0, durationS). */
  durationS: number;
  /** Arrival times in s from the window's start, non-decreasing. */
  arrivalS: Float64Array;
  promptTokens: Uint32Array;
  outputTokens: Uint32Array;
  /** The generator and everything it was given (seed included): commit these beside the results. */
  parameters: Readonly<Record<string, unknown>>;
  /** UTC epoch ms of the window's start, for a replayed trace (lets two traces share one clock). */
  startEpochMs?: number;
}

/** What a traffic stream amounts to. */
export interface TrafficSummary {
  requests: number;
  durationS: number;
  promptTokens: number;
  outputTokens: number;
  /** Tokens through the MoE layers (`forwardTokens` summed). */
  forwardTokens: number;
  requestsPerS: number;
  forwardTokensPerS: number;
  /** Forward tokens per second ÷ tokens per batch: the stream's mean rate in paper batches. */
  batchesPerS: number;
  tokensPerBatch: number;
}

/**
 * Tokens one request sends through the MoE layers: every prompt token once (prefill) and every
 * generated token but the last once (each decode step feeds the token generated before it; the
 * first generated token comes out of the prefill). prompt + max(0, output − 1).
 */
export function forwardTokens(promptTokens: number, outputTokens: number): number {
  return promptTokens + Math.max(0, outputTokens - 1);
}

export function summarizeTraffic(traffic: Traffic, tokensPerBatch = paperTokensPerBatch): TrafficSummary {
  let prompt = 0;
  let output = 0;
  let forward = 0;
  for (let i = 0; i < traffic.arrivalS.length; i++) {
    prompt += traffic.promptTokens[i]!;
    output += traffic.outputTokens[i]!;
    forward += forwardTokens(traffic.promptTokens[i]!, traffic.outputTokens[i]!);
  }
  const perS = (value: number) => (traffic.durationS > 0 ? value / traffic.durationS : 0);
  return {
    requests: traffic.arrivalS.length,
    durationS: traffic.durationS,
    promptTokens: prompt,
    outputTokens: output,
    forwardTokens: forward,
    requestsPerS: perS(traffic.arrivalS.length),
    forwardTokensPerS: perS(forward),
    batchesPerS: perS(forward) / tokensPerBatch,
    tokensPerBatch,
  };
}

/** The sizes of a stream's requests, in arrival order: what the synthetic processes sample from. */
export function requestSizes(traffic: Traffic): RequestSize[] {
  return Array.from(traffic.arrivalS, (_, i) => ({
    promptTokens: traffic.promptTokens[i]!,
    outputTokens: traffic.outputTokens[i]!,
  }));
}

/** One request size, as the synthetic processes take it. */
export const requestSizeSchema = z.strictObject({
  promptTokens: z.number().int().nonnegative().max(0xffffffff),
  outputTokens: z.number().int().nonnegative().max(0xffffffff),
});

/** What every synthetic process shares: a window, the sizes it draws from and a seed. */
export const syntheticTrafficSchema = z.strictObject({
  /** The window in seconds (default one hour, the trace's length). */
  durationS: z.number().positive().finite().default(3600),
  /**
   * Request sizes drawn uniformly with replacement, e.g. `requestSizes(trace)` (the trace's own
   * mix) or `[{ promptTokens: 10_240, outputTokens: 0 }]` (one paper batch per request).
   */
  sizes: z.array(requestSizeSchema).min(1, 'must list at least one request size'),
  /** Where the sizes come from, for the record (the sizes themselves are not copied into it). */
  sizesLabel: z.string().default('given'),
  seed: z.number().int().default(1),
});

/** The record of a size list in a stream's `parameters`: its origin, count and mean. */
export function describeSizes(sizes: readonly RequestSize[], label: string): Record<string, unknown> {
  let forward = 0;
  for (const size of sizes) forward += forwardTokens(size.promptTokens, size.outputTokens);
  return { label, count: sizes.length, meanForwardTokens: forward / sizes.length };
}

/**
 * Builds a Traffic from arrivals and sizes that are already sorted by arrival (the generators' common
 * tail). Checks the order and the window, so a generator bug cannot produce a stream that lies.
 */
export function trafficFromColumns(options: {
  name: string;
  durationS: number;
  arrivalS: ArrayLike<number>;
  promptTokens: ArrayLike<number>;
  outputTokens: ArrayLike<number>;
  parameters: Readonly<Record<string, unknown>>;
  startEpochMs?: number | undefined;
}): Traffic {
  const count = options.arrivalS.length;
  if (options.promptTokens.length !== count || options.outputTokens.length !== count)
    throw new CostModelError({
      code: 'INTERNAL',
      message: `traffic ${options.name}: ${count} arrivals but ${options.promptTokens.length} prompt and ${options.outputTokens.length} output sizes`,
    });
  if (!(options.durationS > 0 && Number.isFinite(options.durationS)))
    throw invalidField('durationS', `must be a positive number of seconds, got ${options.durationS}`);
  const arrivalS = Float64Array.from(options.arrivalS);
  for (let i = 0; i < count; i++) {
    const t = arrivalS[i]!;
    if (!(t >= 0 && t < options.durationS) || (i > 0 && t < arrivalS[i - 1]!))
      throw new CostModelError({
        code: 'INTERNAL',
        message: `traffic ${options.name}: arrival ${i} at ${t} s is out of order or outside [0, ${options.durationS})`,
      });
  }
  const traffic: Traffic = {
    name: options.name,
    durationS: options.durationS,
    arrivalS,
    promptTokens: Uint32Array.from(options.promptTokens),
    outputTokens: Uint32Array.from(options.outputTokens),
    parameters: options.parameters,
  };
  if (options.startEpochMs !== undefined) traffic.startEpochMs = options.startEpochMs;
  return traffic;
}

/**
 * Several streams as one (e.g. the trace's code and conversation services). Streams that carry
 * `startEpochMs` are aligned on that clock; otherwise all start at 0. The window covers them all.
 */
export function mergeTraffic(parts: readonly Traffic[], name?: string): Traffic {
  if (parts.length === 0) throw invalidField('parts', 'must list at least one traffic stream');
  const clocked = parts.every((part) => part.startEpochMs !== undefined);
  const startEpochMs = clocked ? Math.min(...parts.map((part) => part.startEpochMs!)) : undefined;
  const offsets = parts.map((part) => (clocked ? (part.startEpochMs! - startEpochMs!) / 1000 : 0));
  const durationS = Math.max(...parts.map((part, p) => offsets[p]! + part.durationS));
  const order: Array<{ part: number; index: number; arrivalS: number }> = [];
  parts.forEach((part, p) => {
    for (let i = 0; i < part.arrivalS.length; i++)
      order.push({ part: p, index: i, arrivalS: offsets[p]! + part.arrivalS[i]! });
  });
  // Stable: equal arrivals keep the parts' order.
  order.sort((a, b) => a.arrivalS - b.arrivalS || a.part - b.part || a.index - b.index);
  return trafficFromColumns({
    name: name ?? parts.map((part) => part.name).join(' + '),
    durationS,
    arrivalS: order.map((o) => o.arrivalS),
    promptTokens: order.map((o) => parts[o.part]!.promptTokens[o.index]!),
    outputTokens: order.map((o) => parts[o.part]!.outputTokens[o.index]!),
    parameters: { kind: 'merge', parts: parts.map((part) => ({ name: part.name, ...part.parameters })) },
    startEpochMs,
  });
}

/** One size drawn uniformly (with replacement) from `sizes`. */
export function drawSize(sizes: readonly RequestSize[], random: RandomSource): RequestSize {
  return sizes[randomInteger(random, sizes.length)]!;
}

/** An exponential draw with the given mean (inverse CDF; 1 − u keeps log away from 0). */
export function exponentialDraw(meanS: number, random: RandomSource): number {
  return -Math.log(1 - random()) * meanS;
}
