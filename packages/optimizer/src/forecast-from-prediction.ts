import { OptimizerError } from './errors.js';
import type { LoadForecast } from './load-forecast.js';

/**
 * A per-token load prediction for `numTokens` tokens, as `@switchyard/predictor`'s `predictLoad`
 * returns it: layer-major [numLayers × numExperts] expected selections per expert and a central
 * interval of nominal coverage `level`.
 */
export interface LoadPredictionInput {
  numLayers: number;
  numExperts: number;
  numTokens: number;
  level: number;
  mean: ArrayLike<number>;
  low: ArrayLike<number>;
  high: ArrayLike<number>;
}

export interface ForecastFromPredictionOptions {
  /** Tokens in the batch the plan is sized for. */
  tokensPerBatch: number;
  /** Decoder-layer index of each predicted layer, in order (one per predicted layer). */
  moeLayers: readonly number[];
}

function invalid(message: string, location: string): OptimizerError {
  return new OptimizerError({ code: 'INVALID_INPUT', message, location });
}

/**
 * The planner's load forecast for one batch of `tokensPerBatch` tokens from a prediction made on
 * `numTokens` tokens. Loads of tokens add up, so with r = tokensPerBatch / numTokens the means scale
 * by r and the interval's half-widths by √r (a sum of independent tokens' loads); the bounds are
 * clipped to what one batch can hold: at least 0, at most `tokensPerBatch` (top-k routing picks an
 * expert at most once per token). With r = 1 the prediction's own interval is kept exactly.
 */
export function forecastFromPrediction(
  prediction: LoadPredictionInput,
  options: ForecastFromPredictionOptions,
): LoadForecast {
  const { numLayers, numExperts, numTokens } = prediction;
  const { tokensPerBatch, moeLayers } = options;
  if (!Number.isInteger(tokensPerBatch) || tokensPerBatch <= 0)
    throw invalid(`must be a positive whole number, got ${tokensPerBatch}`, 'tokensPerBatch');
  if (!Number.isInteger(numTokens) || numTokens <= 0)
    throw invalid(`a prediction needs at least one token, got ${numTokens}`, 'prediction.numTokens');
  if (!(prediction.level > 0 && prediction.level < 1))
    throw invalid(`must lie strictly between 0 and 1, got ${prediction.level}`, 'prediction.level');
  const cells = numLayers * numExperts;
  for (const field of ['mean', 'low', 'high'] as const) {
    if (prediction[field].length !== cells)
      throw invalid(
        `has ${prediction[field].length} entries, expected ${numLayers} layers × ${numExperts} experts`,
        `prediction.${field}`,
      );
  }
  if (moeLayers.length !== numLayers)
    throw invalid(
      `names ${moeLayers.length} layers but the prediction covers ${numLayers}; predict with a predictor fitted on this model`,
      'moeLayers',
    );
  const scale = tokensPerBatch / numTokens;
  const spread = Math.sqrt(scale);
  return {
    tokensPerBatch,
    intervalLevel: prediction.level,
    layers: moeLayers.map((layer, index) => {
      const mean: number[] = [];
      const low: number[] = [];
      const high: number[] = [];
      for (let cell = index * numExperts; cell < (index + 1) * numExperts; cell++) {
        const m = prediction.mean[cell]!;
        const l = prediction.low[cell]!;
        const h = prediction.high[cell]!;
        if (scale === 1) {
          mean.push(m);
          low.push(l);
          high.push(h);
          continue;
        }
        const scaled = m * scale;
        mean.push(scaled);
        low.push(Math.max(0, scaled - (m - l) * spread));
        high.push(Math.min(tokensPerBatch, scaled + (h - m) * spread));
      }
      return { layer, mean, low, high };
    }),
  };
}
