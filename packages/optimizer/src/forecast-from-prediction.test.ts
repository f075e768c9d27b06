import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forecastFromPrediction, type LoadPredictionInput } from './forecast-from-prediction.js';
import { loadForecastSchema } from './load-forecast.js';

/** Predictions shaped as the predictor builds them: mean ≤ tokens, interval mean ± z·sd clipped to [0, tokens]. */
const predictions = fc
  .record({
    numLayers: fc.integer({ min: 1, max: 3 }),
    numExperts: fc.integer({ min: 1, max: 8 }),
    numTokens: fc.integer({ min: 1, max: 512 }),
    level: fc.double({ min: 0.5, max: 0.99, noNaN: true }),
  })
  .chain((shape) =>
    fc
      .array(
        fc.record({
          share: fc.double({ min: 0, max: 1, noNaN: true }),
          sd: fc.double({ min: 0, max: 40, noNaN: true }),
        }),
        { minLength: shape.numLayers * shape.numExperts, maxLength: shape.numLayers * shape.numExperts },
      )
      .map((cells): LoadPredictionInput => {
        const mean = Float64Array.from(cells, (cell) => cell.share * shape.numTokens);
        return {
          ...shape,
          mean,
          low: mean.map((m, i) => Math.max(0, m - 1.645 * cells[i]!.sd)),
          high: mean.map((m, i) => Math.min(shape.numTokens, m + 1.645 * cells[i]!.sd)),
        };
      }),
  );

const layersOf = (prediction: LoadPredictionInput) =>
  Array.from({ length: prediction.numLayers }, (_, index) => 2 * index + 1);

describe('forecastFromPrediction', () => {
  it('keeps the prediction exactly when the batch is the predicted tokens', () => {
    fc.assert(
      fc.property(predictions, (prediction) => {
        const forecast = forecastFromPrediction(prediction, {
          tokensPerBatch: prediction.numTokens,
          moeLayers: layersOf(prediction),
        });
        const E = prediction.numExperts;
        forecast.layers.forEach((layer, index) => {
          const slice = (values: ArrayLike<number>) => Array.from(values).slice(index * E, (index + 1) * E);
          expect(layer.layer).toBe(2 * index + 1);
          expect(layer.mean).toEqual(slice(prediction.mean));
          expect(layer.low).toEqual(slice(prediction.low));
          expect(layer.high).toEqual(slice(prediction.high));
        });
        expect(forecast.intervalLevel).toBe(prediction.level);
      }),
      { seed: 16, numRuns: 200 },
    );
  });

  it('scales means by the token ratio and interval half-widths by its square root', () => {
    fc.assert(
      fc.property(predictions, fc.integer({ min: 1, max: 20_000 }), (prediction, tokensPerBatch) => {
        const forecast = forecastFromPrediction(prediction, {
          tokensPerBatch,
          moeLayers: layersOf(prediction),
        });
        const ratio = tokensPerBatch / prediction.numTokens;
        const E = prediction.numExperts;
        forecast.layers.forEach((layer, index) => {
          for (let e = 0; e < E; e++) {
            const cell = index * E + e;
            const m = prediction.mean[cell]!;
            expect(layer.mean[e]).toBeCloseTo(m * ratio, 6);
            const down = (m - prediction.low[cell]!) * Math.sqrt(ratio);
            const up = (prediction.high[cell]! - m) * Math.sqrt(ratio);
            // Where no clipping applies the half-widths are exactly the scaled ones.
            if (m * ratio - down > 1e-9) expect(layer.mean[e]! - layer.low[e]!).toBeCloseTo(down, 6);
            if (m * ratio + up < tokensPerBatch - 1e-9)
              expect(layer.high[e]! - layer.mean[e]!).toBeCloseTo(up, 6);
          }
        });
      }),
      { seed: 17, numRuns: 300 },
    );
  });

  it('stays a valid forecast inside what one batch can hold', () => {
    fc.assert(
      fc.property(predictions, fc.integer({ min: 1, max: 20_000 }), (prediction, tokensPerBatch) => {
        const forecast = loadForecastSchema.parse(
          forecastFromPrediction(prediction, { tokensPerBatch, moeLayers: layersOf(prediction) }),
        );
        expect(forecast.tokensPerBatch).toBe(tokensPerBatch);
        for (const layer of forecast.layers) {
          layer.mean.forEach((mean, e) => {
            expect(layer.low[e]!).toBeGreaterThanOrEqual(0);
            expect(layer.low[e]!).toBeLessThanOrEqual(mean + 1e-9);
            expect(layer.high[e]!).toBeGreaterThanOrEqual(mean - 1e-9);
            expect(layer.high[e]!).toBeLessThanOrEqual(tokensPerBatch);
          });
        }
      }),
      { seed: 18, numRuns: 300 },
    );
  });

  it('refuses mismatched shapes, naming the field', () => {
    const prediction: LoadPredictionInput = {
      numLayers: 2,
      numExperts: 2,
      numTokens: 10,
      level: 0.9,
      mean: [1, 2, 3, 4],
      low: [0, 1, 2, 3],
      high: [2, 3, 4],
    };
    expect(() => forecastFromPrediction(prediction, { tokensPerBatch: 10, moeLayers: [0, 1] })).toThrow(
      /prediction\.high/,
    );
    const valid = { ...prediction, high: [2, 3, 4, 5] };
    expect(() => forecastFromPrediction(valid, { tokensPerBatch: 10, moeLayers: [0] })).toThrow(/moeLayers/);
    expect(() => forecastFromPrediction(valid, { tokensPerBatch: 0, moeLayers: [0, 1] })).toThrow(
      /tokensPerBatch/,
    );
    expect(() =>
      forecastFromPrediction({ ...valid, numTokens: 0 }, { tokensPerBatch: 10, moeLayers: [0, 1] }),
    ).toThrow(/numTokens/);
  });
});
