import { createRandom, parseWithSchema } from '@switchyard/core';
import { z } from 'zod';
import {
  describeSizes,
  drawSize,
  exponentialDraw,
  syntheticTrafficSchema,
  type Traffic,
  trafficFromColumns,
} from './traffic.js';

const dayS = 86_400;

export const diurnalTrafficOptionsSchema = syntheticTrafficSchema.extend({
  /** Mean rate over one period (requests per second). */
  meanRequestsPerS: z.number().positive().finite(),
  /** Peak rate ÷ trough rate (≥ 1). */
  peakToTroughRatio: z.number().min(1).finite().default(12),
  /** A day by default. */
  durationS: z.number().positive().finite().default(dayS),
  periodS: z.number().positive().finite().default(dayS),
  /** When the rate peaks, in s from the window's start (default 14:00). */
  peakAtS: z
    .number()
    .nonnegative()
    .finite()
    .default(14 * 3600),
});
export type DiurnalTrafficOptions = z.input<typeof diurnalTrafficOptionsSchema>;

/**
 * The rate at time t of a raised-cosine day: trough + (peak − trough)·(1 + cos 2π(t − peakAt)/period)/2,
 * with peak = 2·mean·r/(r + 1) and trough = 2·mean/(r + 1) so the period's mean is `mean`.
 */
export function diurnalRequestsPerS(
  options: Pick<
    z.output<typeof diurnalTrafficOptionsSchema>,
    'meanRequestsPerS' | 'peakToTroughRatio' | 'periodS' | 'peakAtS'
  >,
  timeS: number,
): number {
  const { meanRequestsPerS: mean, peakToTroughRatio: ratio } = options;
  const peak = (2 * mean * ratio) / (ratio + 1);
  const trough = (2 * mean) / (ratio + 1);
  return (
    trough +
    ((peak - trough) * (1 + Math.cos((2 * Math.PI * (timeS - options.peakAtS)) / options.periodS))) / 2
  );
}

/**
 * A non-homogeneous Poisson day: rate `diurnalRequestsPerS(t)`, drawn by thinning (Lewis–Shedler:
 * candidates at the peak rate, each kept with probability rate(t)/peak). Seeded.
 */
export function diurnalTraffic(input: DiurnalTrafficOptions): Traffic {
  const options = parseWithSchema(diurnalTrafficOptionsSchema, input, 'diurnal traffic');
  const random = createRandom(options.seed);
  const peak = (2 * options.meanRequestsPerS * options.peakToTroughRatio) / (options.peakToTroughRatio + 1);
  const arrivalS: number[] = [];
  const promptTokens: number[] = [];
  const outputTokens: number[] = [];
  for (
    let t = exponentialDraw(1 / peak, random);
    t < options.durationS;
    t += exponentialDraw(1 / peak, random)
  ) {
    if (random() * peak >= diurnalRequestsPerS(options, t)) continue;
    const size = drawSize(options.sizes, random);
    arrivalS.push(t);
    promptTokens.push(size.promptTokens);
    outputTokens.push(size.outputTokens);
  }
  return trafficFromColumns({
    name: `diurnal ${options.meanRequestsPerS}/s, peak/trough ${options.peakToTroughRatio}`,
    durationS: options.durationS,
    arrivalS,
    promptTokens,
    outputTokens,
    parameters: {
      kind: 'diurnal',
      meanRequestsPerS: options.meanRequestsPerS,
      peakToTroughRatio: options.peakToTroughRatio,
      peakRequestsPerS: peak,
      troughRequestsPerS: peak / options.peakToTroughRatio,
      durationS: options.durationS,
      periodS: options.periodS,
      peakAtS: options.peakAtS,
      seed: options.seed,
      sizes: describeSizes(options.sizes, options.sizesLabel),
    },
  });
}
