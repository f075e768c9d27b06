import { createRandom } from '@switchyard/core';
import { invalidField } from './errors.js';
import { type Traffic, trafficFromColumns } from './traffic.js';

export interface ReplayOptions {
  /**
   * Multiplies the arrival rate at every instant: ⌊s⌋ copies of every request, plus each request
   * once more with probability s − ⌊s⌋ (seeded). s < 1 thins the stream. Sizes and arrival times are
   * the trace's own, so its bursts and its minute-to-minute shape stay where they were, s times as tall.
   */
  rateScale: number;
  /** Seed of the thinning draws (unused when `rateScale` is a whole number). */
  seed?: number;
}

/**
 * Replays a recorded stream scaled in rate. A whole-number scale has exactly s× the requests and
 * tokens; a fractional part adds a seeded Bernoulli thinning, so the expected counts are s× and the
 * same seed gives the same stream. Copies of one request arrive together (the trace's bursts, taller).
 */
export function replayTraffic(traffic: Traffic, options: ReplayOptions): Traffic {
  const { rateScale } = options;
  const seed = options.seed ?? 0;
  if (!(rateScale > 0 && Number.isFinite(rateScale)))
    throw invalidField('rateScale', `must be a positive number, got ${rateScale}`);
  if (!Number.isInteger(seed)) throw invalidField('seed', `must be a whole number, got ${seed}`);
  const whole = Math.floor(rateScale);
  const fraction = rateScale - whole;
  const random = createRandom(seed);
  const arrivalS: number[] = [];
  const promptTokens: number[] = [];
  const outputTokens: number[] = [];
  for (let i = 0; i < traffic.arrivalS.length; i++) {
    // One draw per request whatever the scale's whole part, so the thinning pattern of a seed is the
    // same at 0.5 and at 2.5.
    const copies = whole + (fraction > 0 && random() < fraction ? 1 : 0);
    for (let c = 0; c < copies; c++) {
      arrivalS.push(traffic.arrivalS[i]!);
      promptTokens.push(traffic.promptTokens[i]!);
      outputTokens.push(traffic.outputTokens[i]!);
    }
  }
  return trafficFromColumns({
    name: rateScale === 1 ? traffic.name : `${traffic.name} ×${rateScale}`,
    durationS: traffic.durationS,
    arrivalS,
    promptTokens,
    outputTokens,
    parameters: { kind: 'replay', rateScale, seed, of: { name: traffic.name, ...traffic.parameters } },
    startEpochMs: traffic.startEpochMs,
  });
}
