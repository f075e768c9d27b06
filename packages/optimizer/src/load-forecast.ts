import type { RoutingTrace } from '@switchyard/core';
import { normalQuantile, type RandomSource, randomNormal } from '@switchyard/core';
import { z } from 'zod';
import { OptimizerError } from './errors.js';

/**
 * Predicted tokens per expert for one batch, per MoE layer: the mean and a central interval
 * (`intervalLevel`, e.g. 0.9 = 5 % … 95 %), as `@switchyard/predictor`'s `predictLoad` returns it.
 * Counts are token–expert selections, so a layer's means sum to about tokensPerBatch × topK.
 */
export const loadForecastSchema = z.object({
  tokensPerBatch: z.number().int().positive(),
  intervalLevel: z.number().gt(0).lt(1).default(0.9),
  layers: z
    .array(
      z.object({
        layer: z.number().int().nonnegative(),
        mean: z.array(z.number().nonnegative()).min(1),
        low: z.array(z.number().nonnegative()).min(1),
        high: z.array(z.number().nonnegative()).min(1),
      }),
    )
    .min(1),
});
export type LoadForecast = z.output<typeof loadForecastSchema>;
export type LoadForecastInput = z.input<typeof loadForecastSchema>;

/**
 * Spread of one expert's load, from the interval: σ_up = (high − mean)/z, σ_down = (mean − low)/z
 * with z the interval's upper normal quantile (a normal approximation, asymmetric when the interval is).
 */
export interface ExpertLoad {
  mean: number;
  sigmaUp: number;
  sigmaDown: number;
}

export function expertLoads(forecast: LoadForecast): ExpertLoad[][] {
  const z = normalQuantile(0.5 + forecast.intervalLevel / 2);
  return forecast.layers.map((layer, layerIndex) => {
    if (layer.low.length !== layer.mean.length || layer.high.length !== layer.mean.length) {
      throw new OptimizerError({
        code: 'INVALID_INPUT',
        message: 'mean, low and high must have one entry per expert',
        location: `forecast.layers.${layerIndex}`,
      });
    }
    return layer.mean.map((mean, expert) => ({
      mean,
      sigmaUp: Math.max(0, layer.high[expert]! - mean) / z,
      sigmaDown: Math.max(0, mean - layer.low[expert]!) / z,
    }));
  });
}

/** Tokens at quantile `q` of an expert's load (normal approximation, never below 0). */
export function loadAtQuantile(load: ExpertLoad, q: number): number {
  const z = normalQuantile(q);
  return Math.max(0, load.mean + z * (z >= 0 ? load.sigmaUp : load.sigmaDown));
}

/** Tokens at quantile `q` of the summed load of several experts (independent normals). */
export function summedLoadAtQuantile(loads: readonly ExpertLoad[], q: number): number {
  const z = normalQuantile(q);
  let mean = 0;
  let variance = 0;
  for (const load of loads) {
    mean += load.mean;
    const sigma = z >= 0 ? load.sigmaUp : load.sigmaDown;
    variance += sigma * sigma;
  }
  return Math.max(0, mean + z * Math.sqrt(variance));
}

/** Draws one batch's tokens per expert (normal approximation, rounded, clipped at 0). */
export function sampleBatchLoads(loads: readonly ExpertLoad[][], random: RandomSource): number[][] {
  return loads.map((layer) =>
    layer.map((load) => {
      const draw = randomNormal(random);
      return Math.max(0, Math.round(load.mean + draw * (draw >= 0 ? load.sigmaUp : load.sigmaDown)));
    }),
  );
}

/**
 * Forecast from expert popularity alone (no per-token prediction): each of tokensPerBatch × topK
 * selections goes to expert i with probability share_i, so counts are multinomial with
 * σ_i = √(n p_i (1 − p_i)). `sharesPerLayer[l][i]` are non-negative weights (normalised here).
 */
export function forecastFromPopularity(
  sharesPerLayer: readonly (readonly number[])[],
  options: { tokensPerBatch: number; topK: number; layers?: readonly number[]; intervalLevel?: number },
): LoadForecast {
  const intervalLevel = options.intervalLevel ?? 0.9;
  const z = normalQuantile(0.5 + intervalLevel / 2);
  const selections = options.tokensPerBatch * options.topK;
  return {
    tokensPerBatch: options.tokensPerBatch,
    intervalLevel,
    layers: sharesPerLayer.map((weights, index) => {
      const total = weights.reduce((sum, w) => sum + w, 0);
      if (!(total > 0)) {
        throw new OptimizerError({
          code: 'INVALID_INPUT',
          message: 'expert popularity must not be all zero',
          location: `layer ${index}`,
        });
      }
      const mean = weights.map((w) => (selections * w) / total);
      const sigma = weights.map((w) => Math.sqrt(selections * (w / total) * (1 - w / total)));
      return {
        layer: options.layers?.[index] ?? index,
        mean,
        low: mean.map((m, i) => Math.max(0, m - z * sigma[i]!)),
        high: mean.map((m, i) => m + z * sigma[i]!),
      };
    }),
  };
}

/**
 * Forecast from a routing trace. With at least 8 full batches in the trace the mean and interval are
 * the empirical per-batch counts (this keeps real burstiness); otherwise the trace's popularity is
 * scaled to the batch with multinomial spread.
 */
export function forecastFromTrace(
  trace: Pick<RoutingTrace, 'topkIds' | 'numLayers' | 'numTokens' | 'topK' | 'meta'>,
  options: { tokensPerBatch: number; intervalLevel?: number },
): LoadForecast {
  const intervalLevel = options.intervalLevel ?? 0.9;
  const numExperts = trace.meta.num_experts;
  const batches = Math.floor(trace.numTokens / options.tokensPerBatch);
  const perLayer = trace.numTokens * trace.topK;
  if (batches < 8) {
    const shares: number[][] = [];
    for (let layer = 0; layer < trace.numLayers; layer++) {
      const counts = new Array<number>(numExperts).fill(0);
      for (let i = layer * perLayer; i < (layer + 1) * perLayer; i++) counts[trace.topkIds[i]!]! += 1;
      // Laplace smoothing: an expert unseen in the trace may still get tokens.
      shares.push(counts.map((count) => count + 0.5));
    }
    return forecastFromPopularity(shares, {
      tokensPerBatch: options.tokensPerBatch,
      topK: trace.topK,
      layers: trace.meta.moe_layers,
      intervalLevel,
    });
  }
  const batchCounts: number[][][] = [];
  for (let batch = 0; batch < batches; batch++) {
    batchCounts.push(
      trace.meta.moe_layers.map((_, layer) => {
        const counts = new Array<number>(numExperts).fill(0);
        const start = layer * perLayer + batch * options.tokensPerBatch * trace.topK;
        for (let i = start; i < start + options.tokensPerBatch * trace.topK; i++)
          counts[trace.topkIds[i]!]! += 1;
        return counts;
      }),
    );
  }
  return forecastFromBatches(batchCounts, {
    tokensPerBatch: options.tokensPerBatch,
    layers: trace.meta.moe_layers,
    intervalLevel,
  });
}

/**
 * Forecast from observed batches (`batches[b][layer][expert]` = tokens): per expert the mean over the
 * batches and the empirical central `intervalLevel` range (linear interpolation between order
 * statistics), so the interval keeps whatever varies between real batches.
 */
export function forecastFromBatches(
  batches: readonly (readonly (readonly number[])[])[],
  options: { tokensPerBatch: number; layers?: readonly number[]; intervalLevel?: number },
): LoadForecast {
  const intervalLevel = options.intervalLevel ?? 0.9;
  const first = batches[0];
  if (!first || first.length === 0)
    throw new OptimizerError({
      code: 'INVALID_INPUT',
      message: 'a forecast from batches needs at least one batch with one layer',
      location: 'batches',
    });
  batches.forEach((batch, b) => {
    if (batch.length !== first.length || batch.some((layer, l) => layer.length !== first[l]!.length))
      throw new OptimizerError({
        code: 'INVALID_INPUT',
        message: `batch ${b} has a different number of layers or experts than batch 0`,
        location: `batches.${b}`,
      });
  });
  const lowRank = (1 - intervalLevel) / 2;
  const quantile = (values: number[], q: number): number => {
    const sorted = [...values].sort((a, b) => a - b);
    const position = q * (sorted.length - 1);
    const below = Math.floor(position);
    const above = Math.min(sorted.length - 1, below + 1);
    return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
  };
  return {
    tokensPerBatch: options.tokensPerBatch,
    intervalLevel,
    layers: first.map((experts, layer) => {
      const perExpert = experts.map((_, expert) => batches.map((batch) => batch[layer]![expert]!));
      return {
        layer: options.layers?.[layer] ?? layer,
        mean: perExpert.map((values) => values.reduce((sum, v) => sum + v, 0) / values.length),
        low: perExpert.map((values) => quantile(values, lowRank)),
        high: perExpert.map((values) => quantile(values, 1 - lowRank)),
      };
    }),
  };
}
