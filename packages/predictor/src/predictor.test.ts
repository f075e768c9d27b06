import { SwitchyardError } from '@switchyard/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sliceTrace, syntheticTrace } from '../test/synthetic.js';
import { predictorFromExpertLoad } from './expert-load-predictor.js';
import { fitPredictor } from './fit.js';
import { deserializePredictor, serializePredictor } from './serialization.js';

const base = { numExperts: 8, topK: 2, numLayers: 3, vocabulary: 24, chunk: 64 };

function batchOf(trace: ReturnType<typeof syntheticTrace>) {
  return { tokens: trace.tokens, topkIds: trace.topkIds };
}

describe('fitPredictor', () => {
  it('gives per-token probabilities that sum to 1 on every layer', () => {
    const trace = syntheticTrace({ ...base, seed: 1, tokens: 2048 });
    const predictor = fitPredictor(trace);
    const held = syntheticTrace({ ...base, seed: 2, tokens: 512 });
    for (let layer = 0; layer < 3; layer++) {
      const p = predictor.tokenProbabilities(batchOf(held), layer);
      for (let t = 0; t < 512; t++) {
        const sum = p.subarray(t * 8, (t + 1) * 8).reduce((a, b) => a + b, 0);
        expect(sum).toBeCloseTo(1, 10);
      }
    }
  });

  it('observe without forgetting equals refitting on the concatenated data (same concentrations)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 15 }), (seed, chunks) => {
        const all = syntheticTrace({ ...base, seed, tokens: 64 * 16 });
        const first = sliceTrace(all, 0, 64 * chunks);
        const second = sliceTrace(all, 64 * chunks, 64 * 16);
        const fitted = fitPredictor(first, { calibrationFolds: 2 });
        const concentrations = fitted.state.layers.map((model) => Array.from(model.concentrations));
        const updated = fitPredictor(first, { concentrations, calibrationFolds: 2 });
        updated.observe(batchOf(second));
        const refit = fitPredictor([first, second], { concentrations, calibrationFolds: 2 });
        const probe = syntheticTrace({ ...base, seed: seed + 7, tokens: 256 });
        for (let layer = 0; layer < 3; layer++) {
          const a = updated.tokenProbabilities(batchOf(probe), layer);
          const b = refit.tokenProbabilities(batchOf(probe), layer);
          for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i]!, 12);
        }
      }),
      { seed: 42, numRuns: 4 },
    );
  });

  it('forgets old routing at the configured half-life and flags drift when routing changes', () => {
    const calibration = syntheticTrace({ ...base, seed: 3, tokens: 4096 });
    const shifted = syntheticTrace({ ...base, seed: 4, tokens: 2048, permute: true });
    const same = syntheticTrace({ ...base, seed: 5, tokens: 2048 });
    const forgetting = fitPredictor(calibration, { halfLifeTokens: 256 });
    const remembering = fitPredictor(calibration);
    expect(forgetting.observe(batchOf(same)).drift.drifting).toBe(false);
    const result = forgetting.observe(batchOf(shifted));
    expect(result.drift.drifting).toBe(true);
    remembering.observe(batchOf(shifted));
    const probe = syntheticTrace({ ...base, seed: 6, tokens: 1024, permute: true });
    const logLikelihood = (predictor: typeof forgetting): number => {
      let sum = 0;
      for (let layer = 0; layer < 3; layer++) {
        const p = predictor.tokenProbabilities(batchOf(probe), layer);
        for (let t = 0; t < 1024; t++)
          for (let j = 0; j < 2; j++) sum += Math.log(p[t * 8 + probe.topkIds[(layer * 1024 + t) * 2 + j]!]!);
      }
      return sum;
    };
    expect(logLikelihood(forgetting)).toBeGreaterThan(logLikelihood(remembering));
  });

  it('recalibrates the interval over-dispersion online from observed batches when routing shifts', () => {
    const predictor = fitPredictor(syntheticTrace({ ...base, seed: 16, tokens: 4096 }));
    const fitted = [...predictor.state.overdispersion];
    const shifted = syntheticTrace({ ...base, seed: 17, tokens: 256 * 16, permute: true });
    let result = predictor.observe(batchOf(sliceTrace(shifted, 0, 256)));
    expect(result.overdispersion).toEqual(fitted); // too few batches yet
    for (let batch = 1; batch < 16; batch++)
      result = predictor.observe(batchOf(sliceTrace(shifted, batch * 256, (batch + 1) * 256)));
    for (let layer = 0; layer < 3; layer++)
      expect(result.overdispersion[layer]).toBeGreaterThan(fitted[layer]! * 2);
  });

  it('predicts batch load whose mean sums to K per token and whose interval contains the mean', () => {
    const predictor = fitPredictor(syntheticTrace({ ...base, seed: 8, tokens: 4096 }));
    const held = syntheticTrace({ ...base, seed: 9, tokens: 1000 });
    const load = predictor.predictLoad({ tokens: held.tokens });
    for (let layer = 0; layer < 3; layer++) {
      const mean = load.mean.subarray(layer * 8, (layer + 1) * 8);
      expect(mean.reduce((a, b) => a + b, 0)).toBeCloseTo(1000 * 2, 6);
      for (let e = layer * 8; e < (layer + 1) * 8; e++) {
        expect(load.low[e]).toBeLessThanOrEqual(load.mean[e]!);
        expect(load.high[e]).toBeGreaterThanOrEqual(load.mean[e]!);
      }
    }
  });

  it('gives relatively wider intervals for smaller batches and for aggregated priors with fewer observations', () => {
    const predictor = fitPredictor(syntheticTrace({ ...base, seed: 10, tokens: 4096 }));
    const held = syntheticTrace({ ...base, seed: 11, tokens: 4096 });
    const relativeWidth = (load: ReturnType<typeof predictor.predictLoad>): number => {
      let width = 0;
      let mean = 0;
      for (let i = 0; i < load.mean.length; i++) {
        width += load.high[i]! - load.low[i]!;
        mean += load.mean[i]!;
      }
      return width / mean;
    };
    const small = relativeWidth(predictor.predictLoad({ tokens: held.tokens.subarray(0, 256) }));
    const large = relativeWidth(predictor.predictLoad({ tokens: held.tokens }));
    expect(small).toBeGreaterThan(large);
    const counts = [[500, 300, 200, 100]];
    const few = predictorFromExpertLoad(counts, { topK: 1, effectiveSelections: 100 });
    const many = predictorFromExpertLoad(counts, { topK: 1, effectiveSelections: 100_000 });
    const tokens = { tokens: new Int32Array(4096) };
    expect(relativeWidth(few.predictLoad(tokens))).toBeGreaterThan(relativeWidth(many.predictLoad(tokens)));
    expect(Array.from(many.predictLoad(tokens).mean)).toEqual(
      [500, 300, 200, 100].map((count) => expect.closeTo((count / 1100) * 4096, 0)),
    );
  });

  it('rejects malformed batches with INVALID_INPUT naming the field', () => {
    const predictor = fitPredictor(syntheticTrace({ ...base, seed: 12, tokens: 1024 }));
    const bad = (run: () => unknown, pattern: RegExp): void => {
      try {
        run();
        expect.unreachable('should have thrown');
      } catch (error) {
        expect(SwitchyardError.isInstance(error) && error.code).toBe('INVALID_INPUT');
        expect((error as Error).message).toMatch(pattern);
      }
    };
    bad(
      () => predictor.predictLoad({ tokens: new Int32Array(4), topkIds: new Int16Array(5) }),
      /topkIds has 5 entries/,
    );
    bad(
      () => predictor.observe({ tokens: new Int32Array(1), topkIds: Int16Array.from([0, 8, 0, 1, 0, 1]) }),
      /expert id 8/,
    );
    bad(() => predictor.predictLoad({ tokens: new Int32Array(0) }), /no tokens/);
    bad(() => predictor.observe({ tokens: new Int32Array(3) }), /needs the routing/);
    bad(() => fitPredictor([]), /no calibration traces/);
    bad(() => predictor.tokenProbabilities({ tokens: new Int32Array(3) }, 3), /layer 3 is outside/);
  });
});

describe('serialisation', () => {
  it('round-trips a predictor (float32 counts) and reports what a size bound pruned', () => {
    const trace = syntheticTrace({ ...base, seed: 13, tokens: 4096 });
    const predictor = fitPredictor(trace);
    const { file, pruned } = serializePredictor(predictor);
    expect(pruned.prunedRows).toBe(0);
    const back = deserializePredictor(JSON.parse(JSON.stringify(file)));
    const held = syntheticTrace({ ...base, seed: 14, tokens: 512 });
    const a = predictor.predictLoad(batchOf(held));
    const b = back.predictLoad(batchOf(held));
    for (let i = 0; i < a.mean.length; i++) {
      expect(b.mean[i]).toBeCloseTo(a.mean[i]!, 3);
      expect(b.high[i]).toBeCloseTo(a.high[i]!, 3);
    }
    const small = serializePredictor(predictor, { maxRows: 200 });
    expect(small.pruned.keptRows).toBeLessThanOrEqual(200 + 3 * 25);
    expect(small.pruned.prunedRows).toBeGreaterThan(0);
    expect(small.file.pruned.rows).toBe(small.pruned.prunedRows);
    const bounded = deserializePredictor(small.file).predictLoad(batchOf(held));
    expect(bounded.mean.reduce((x, y) => x + y, 0)).toBeCloseTo(512 * 2 * 3, 6);
  });

  it('rejects an unknown version, a foreign file and inconsistent arrays with PREDICTOR_INVALID', () => {
    const predictor = fitPredictor(syntheticTrace({ ...base, seed: 15, tokens: 1024 }));
    const { file } = serializePredictor(predictor);
    const expectInvalid = (value: unknown, pattern: RegExp): void => {
      try {
        deserializePredictor(value, 'p.json');
        expect.unreachable('should have thrown');
      } catch (error) {
        expect(SwitchyardError.isInstance(error) && error.code).toBe('PREDICTOR_INVALID');
        expect((error as Error).message).toMatch(pattern);
      }
    };
    expectInvalid({ ...file, version: 3 }, /unsupported predictor file version 3/);
    expectInvalid({ ...file, version: 1 }, /version 1 is no longer read.*refit/);
    expectInvalid({ hello: 1 }, /not a predictor file/);
    const broken = structuredClone(file);
    broken.layers[0]!.levels[1]!.rows += 1;
    expectInvalid(broken, /expected/);
  });
});
