import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readRoutingTrace } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { fitPredictor, predictorFromExpertLoad } from '../src/index.js';

const root = resolve(import.meta.dirname, '../../..');

interface OlmoeCounts {
  data: Record<string, { expert_counts: Record<string, Record<string, Record<string, number>>> }>;
}

/** Per-layer counts [layer][expert] of OLMoE-1B-7B on one domain (layers 0, 7, 15). */
function olmoeLoad(domain: string): number[][] {
  const file = JSON.parse(
    readFileSync(resolve(root, 'fixtures/data/real-routing/olmoe-paper-expert-counts.json'), 'utf8'),
  ) as OlmoeCounts;
  const byLayer = file.data.olmoe!.expert_counts[domain]!;
  return Object.keys(byLayer).map((layer) =>
    Array.from({ length: 64 }, (_, expert) => byLayer[layer]![String(expert)] ?? 0),
  );
}

describe('prior from aggregated counts (fixtures/data/real-routing)', () => {
  it('predicts the published OLMoE popularity for a batch with intervals around it', () => {
    const load = olmoeLoad('c4');
    const predictor = predictorFromExpertLoad(load, { topK: 8, modelName: 'OLMoE-1B-7B c4' });
    const prediction = predictor.predictLoad({ tokens: new Int32Array(1024) });
    for (let layer = 0; layer < load.length; layer++) {
      const total = load[layer]!.reduce((a, b) => a + b, 0);
      for (let expert = 0; expert < 64; expert++) {
        const i = layer * 64 + expert;
        expect(prediction.mean[i]).toBeCloseTo(((load[layer]![expert]! + 1) / (total + 64)) * 1024 * 8, 0);
        expect(prediction.low[i]).toBeLessThan(prediction.mean[i]!);
        expect(prediction.high[i]).toBeGreaterThan(prediction.mean[i]!);
      }
    }
  });

  it('learns online from observed routing and flags nothing before data', () => {
    const predictor = predictorFromExpertLoad([[10, 10, 10, 10]], { topK: 1, halfLifeTokens: 100 });
    expect(predictor.drift().drifting).toBe(false);
    const tokens = new Int32Array(1000);
    predictor.observe({ tokens, topkIds: new Int16Array(1000) }); // every token to expert 0
    const after = predictor.predictLoad({ tokens: new Int32Array(100) });
    expect(after.mean[0]).toBeGreaterThan(95);
  });

  it('uses per-layer loads as the base measure of a trace fit (priorExpertLoad)', async () => {
    const trace = await readRoutingTrace(
      resolve(root, 'fixtures/traces/shakespeare-mixtral-8x2/calibration.safetensors'),
    );
    const prior = trace.meta.expert_load!;
    const predictor = fitPredictor(trace, { priorExpertLoad: prior, contextTokens: 1 });
    const total = prior[0]!.reduce((a, b) => a + b, 0) + 8;
    expect(predictor.state.layers[0]!.base[1]).toBeCloseTo((prior[0]![1]! + 1) / total, 12);
    expect(() => fitPredictor(trace, { priorExpertLoad: prior.slice(1) })).toThrow(
      /priorExpertLoad has 3 layers/,
    );
  });
});
