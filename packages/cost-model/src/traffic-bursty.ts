import { createRandom, parseWithSchema } from '@switchyard/core';
import { z } from 'zod';
import { invalidField } from './errors.js';
import {
  describeSizes,
  drawSize,
  exponentialDraw,
  syntheticTrafficSchema,
  type Traffic,
  trafficFromColumns,
} from './traffic.js';

export const mmppStateSchema = z.strictObject({
  /** Poisson rate while in this state (0 = silent). */
  requestsPerS: z.number().nonnegative().finite(),
  /** Mean time in the state; dwell times are exponential. */
  meanDwellS: z.number().positive().finite(),
});
export type MmppState = z.output<typeof mmppStateSchema>;

export const mmppTrafficOptionsSchema = syntheticTrafficSchema.extend({
  /** Visited in order, cyclically (with two states: the two-state MMPP; on/off when one rate is 0). */
  states: z.array(mmppStateSchema).min(1),
});
export type MmppTrafficOptions = z.input<typeof mmppTrafficOptionsSchema>;

/** The long-run mean rate of cyclic states: Σ rate·dwell / Σ dwell. */
export function mmppMeanRequestsPerS(states: readonly MmppState[]): number {
  let requests = 0;
  let time = 0;
  for (const state of states) {
    requests += state.requestsPerS * state.meanDwellS;
    time += state.meanDwellS;
  }
  return requests / time;
}

/**
 * A Markov-modulated Poisson process: the stream sits in a state for an exponential time (mean
 * `meanDwellS`), producing Poisson arrivals at that state's rate, then moves to the next state. The
 * first state is drawn in proportion to the mean dwell times (the chain's long-run share of time), so
 * the window starts in steady state. Seeded; the state path depends on the seed and the dwell times
 * only, not on the rates.
 */
export function mmppTraffic(input: MmppTrafficOptions): Traffic {
  const options = parseWithSchema(mmppTrafficOptionsSchema, input, 'MMPP traffic');
  const { states, durationS } = options;
  // Two streams from the seed: the state path and the arrivals. The path is then the same at every rate
  // (common random numbers), so a sweep over rates sees the same bursts, only taller or shorter.
  const pathRandom = createRandom(options.seed);
  const random = createRandom(options.seed ^ 0x5bd1e995);
  const totalDwellS = states.reduce((sum, state) => sum + state.meanDwellS, 0);
  let state = 0;
  for (let pick = pathRandom() * totalDwellS; state < states.length - 1; state++) {
    pick -= states[state]!.meanDwellS;
    if (pick < 0) break;
  }
  const arrivalS: number[] = [];
  const promptTokens: number[] = [];
  const outputTokens: number[] = [];
  let stateStartS = 0;
  while (stateStartS < durationS) {
    const { requestsPerS, meanDwellS } = states[state]!;
    const stateEndS = Math.min(durationS, stateStartS + exponentialDraw(meanDwellS, pathRandom));
    // Exponential gaps are memoryless, so a fresh gap at each state change is exact.
    if (requestsPerS > 0)
      for (let t = stateStartS + exponentialDraw(1 / requestsPerS, random); t < stateEndS; ) {
        const size = drawSize(options.sizes, random);
        arrivalS.push(t);
        promptTokens.push(size.promptTokens);
        outputTokens.push(size.outputTokens);
        t += exponentialDraw(1 / requestsPerS, random);
      }
    stateStartS = stateEndS;
    state = (state + 1) % states.length;
  }
  return trafficFromColumns({
    name: `mmpp ${states.map((s) => `${s.requestsPerS}/s×${s.meanDwellS}s`).join(' → ')}`,
    durationS,
    arrivalS,
    promptTokens,
    outputTokens,
    parameters: {
      kind: 'mmpp',
      states,
      meanRequestsPerS: mmppMeanRequestsPerS(states),
      durationS,
      seed: options.seed,
      sizes: describeSizes(options.sizes, options.sizesLabel),
    },
  });
}

/**
 * The two states of an on/off stream with a given long-run mean: `offRequestsPerS` (default 0) for
 * `meanOffS`, then the rate that makes the mean come out for `meanOnS`:
 * on = (mean·(on + off) − offRate·off) / on.
 */
export function onOffStates(options: {
  meanRequestsPerS: number;
  meanOnS: number;
  meanOffS: number;
  offRequestsPerS?: number;
}): MmppState[] {
  const { meanRequestsPerS, meanOnS, meanOffS } = options;
  const offRequestsPerS = options.offRequestsPerS ?? 0;
  for (const [field, value] of [
    ['meanRequestsPerS', meanRequestsPerS],
    ['meanOnS', meanOnS],
    ['meanOffS', meanOffS],
  ] as const)
    if (!(value > 0 && Number.isFinite(value)))
      throw invalidField(field, `must be a positive number, got ${value}`);
  if (!(offRequestsPerS >= 0 && offRequestsPerS <= meanRequestsPerS))
    throw invalidField('offRequestsPerS', `must be in [0, meanRequestsPerS], got ${offRequestsPerS}`);
  const onRequestsPerS = (meanRequestsPerS * (meanOnS + meanOffS) - offRequestsPerS * meanOffS) / meanOnS;
  return [
    { requestsPerS: onRequestsPerS, meanDwellS: meanOnS },
    { requestsPerS: offRequestsPerS, meanDwellS: meanOffS },
  ];
}
