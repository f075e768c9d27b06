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

export const poissonTrafficOptionsSchema = syntheticTrafficSchema.extend({
  /** Mean arrival rate (requests per second). */
  requestsPerS: z.number().positive().finite(),
});
export type PoissonTrafficOptions = z.input<typeof poissonTrafficOptionsSchema>;

/**
 * A homogeneous Poisson stream: exponential gaps with mean 1/rate, each request's size drawn from
 * `sizes`. Seeded: the same options give the same stream.
 */
export function poissonTraffic(input: PoissonTrafficOptions): Traffic {
  const options = parseWithSchema(poissonTrafficOptionsSchema, input, 'poisson traffic');
  const random = createRandom(options.seed);
  const arrivalS: number[] = [];
  const promptTokens: number[] = [];
  const outputTokens: number[] = [];
  for (let t = exponentialDraw(1 / options.requestsPerS, random); t < options.durationS; ) {
    const size = drawSize(options.sizes, random);
    arrivalS.push(t);
    promptTokens.push(size.promptTokens);
    outputTokens.push(size.outputTokens);
    t += exponentialDraw(1 / options.requestsPerS, random);
  }
  return trafficFromColumns({
    name: `poisson ${options.requestsPerS}/s`,
    durationS: options.durationS,
    arrivalS,
    promptTokens,
    outputTokens,
    parameters: {
      kind: 'poisson',
      requestsPerS: options.requestsPerS,
      durationS: options.durationS,
      seed: options.seed,
      sizes: describeSizes(options.sizes, options.sizesLabel),
    },
  });
}
