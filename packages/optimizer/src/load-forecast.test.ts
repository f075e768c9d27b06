import { normalQuantile, readRoutingTrace } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import {
  expertLoads,
  forecastFromBatches,
  forecastFromPopularity,
  forecastFromTrace,
  loadAtQuantile,
  summedLoadAtQuantile,
} from './load-forecast.js';
import { paperShape, popularityFromCounts } from './paper-shapes.js';

const tracePath = new URL(
  '../../../fixtures/traces/shakespeare-mixtral-8x2/heldout.safetensors',
  import.meta.url,
).pathname;

describe('load forecasts', () => {
  it('normalQuantile inverts the normal CDF', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.95)).toBeCloseTo(1.6448536, 6);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.3263479, 6);
  });

  it('popularity forecasts conserve token selections and widen with the quantile', () => {
    const forecast = forecastFromPopularity([[1, 2, 7]], { tokensPerBatch: 1000, topK: 2 });
    const mean = forecast.layers[0]!.mean;
    expect(mean.reduce((s, m) => s + m, 0)).toBeCloseTo(2000, 9);
    const [loads] = expertLoads(forecast);
    expect(loadAtQuantile(loads![2]!, 0.95)).toBeCloseTo(forecast.layers[0]!.high[2]!, 6);
    expect(loadAtQuantile(loads![2]!, 0.5)).toBeCloseTo(1400, 9);
    expect(loadAtQuantile(loads![2]!, 0.99)).toBeGreaterThan(loadAtQuantile(loads![2]!, 0.9));
    // Pooling experts: less than the sum of their quantiles (independent spreads).
    const pooled = summedLoadAtQuantile(loads!, 0.95);
    expect(pooled).toBeLessThan(loads!.reduce((s, l) => s + loadAtQuantile(l, 0.95), 0));
    expect(pooled).toBeGreaterThan(2000);
  });

  it('reads per-batch load and intervals from a real routing trace', async () => {
    const trace = await readRoutingTrace(tracePath);
    const forecast = forecastFromTrace(trace, { tokensPerBatch: 1024 });
    expect(forecast.layers).toHaveLength(trace.numLayers);
    for (const layer of forecast.layers) {
      expect(layer.mean.reduce((s, m) => s + m, 0)).toBeCloseTo(1024 * trace.topK, 6);
      layer.mean.forEach((mean, e) => {
        expect(layer.low[e]!).toBeLessThanOrEqual(mean + 1e-9);
        expect(layer.high[e]!).toBeGreaterThanOrEqual(mean - 1e-9);
      });
    }
    // A batch larger than the trace allows falls back to popularity with multinomial spread.
    const scaled = forecastFromTrace(trace, { tokensPerBatch: 100_000 });
    expect(scaled.layers[0]!.mean.reduce((s, m) => s + m, 0)).toBeCloseTo(100_000 * trace.topK, 3);
  });

  it('paper shapes and real skew', () => {
    const model = paperShape('bert2bert-moe-24x4-top2');
    expect(model.moeLayers).toHaveLength(24);
    expect(model.topK).toBe(2);
    expect(model.bytesPerExpert).toBe((2 * 768 * 3072 + 3072 + 768) * 4);
    expect(() => paperShape('bert-moe-7x7')).toThrow(/unknown paper shape/);
    const popularity = popularityFromCounts([[5, 1, 9, 3, 7]], { numLayers: 2, numExperts: 3, seed: 1 });
    expect(popularity).toHaveLength(2);
    for (const layer of popularity) expect(layer).toHaveLength(3);
  });

  it('forecastFromBatches: the mean and the empirical central range of observed batches', () => {
    // Ten batches of one layer × two experts: expert 0 gets 0, 10, …, 90 tokens; expert 1 twice that.
    const batches = Array.from({ length: 10 }, (_, b) => [[10 * b, 20 * b]]);
    const forecast = forecastFromBatches(batches, { tokensPerBatch: 100, layers: [3], intervalLevel: 0.8 });
    expect(forecast.layers[0]!.layer).toBe(3);
    expect(forecast.layers[0]!.mean).toEqual([45, 90]);
    // 10th and 90th percentiles, interpolated between order statistics (position 0.9 and 8.1).
    expect(forecast.layers[0]!.low[0]).toBeCloseTo(9, 12);
    expect(forecast.layers[0]!.high[0]).toBeCloseTo(81, 12);
    expect(forecast.layers[0]!.high[1]).toBeCloseTo(162, 12);
    expect(() => forecastFromBatches([], { tokensPerBatch: 100 })).toThrow(/at least one batch/);
    expect(() => forecastFromBatches([[[1, 2]], [[1]]], { tokensPerBatch: 100 })).toThrow(
      /batch 1 has a different/,
    );
  });
});
