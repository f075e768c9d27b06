import { parseWithSchema } from '@switchyard/core';
import { inputError } from './errors.js';
import { computeLevelKeys, type LevelKind } from './features.js';
import { LayerModel } from './layer-model.js';
import { type ExpertLoadOptions, expertLoadOptionsSchema } from './options.js';
import { Predictor } from './predictor.js';

/**
 * A predictor from aggregated counts only (per-layer expert load, e.g. fixtures/data/real-routing),
 * for when no per-token trace exists: each layer is its global level, a Dirichlet posterior with a
 * uniform Dirichlet(1) prior. Intervals hold the Poisson-binomial and the Dirichlet posterior
 * variance of the popularity (the model's predictive variance, φ = 1); there is no data to calibrate
 * them further.
 */
export function predictorFromExpertLoad(
  expertLoad: number[][],
  expertLoadOptions: ExpertLoadOptions,
): Predictor {
  if (expertLoad.length === 0) throw inputError('expert load has no layers', 'expertLoad');
  const E = expertLoad[0]!.length;
  if (E === 0) throw inputError('expert load has no experts', 'expertLoad[0]');
  const options = parseWithSchema(
    expertLoadOptionsSchema,
    expertLoadOptions,
    'predictorFromExpertLoad options',
  );
  if (options.topK > E) throw inputError(`topK must be an integer in 1..${E}`, 'topK');
  const layers = expertLoad.map((load, layer) => {
    if (load.length !== E)
      throw inputError(`layer ${layer} has ${load.length} experts, layer 0 has ${E}`, `expertLoad[${layer}]`);
    if (load.some((count) => !(count >= 0)))
      throw inputError('counts must be non-negative numbers', `expertLoad[${layer}]`);
    const total = load.reduce((a, b) => a + b, 0);
    if (total === 0) throw inputError('layer has no counts', `expertLoad[${layer}]`);
    const factor = options.effectiveSelections ? options.effectiveSelections / total : 1;
    const model = new LayerModel(E, options.topK, 1, new Float64Array(E).fill(1 / E), [1]);
    const level = model.levels[0]!;
    level.rowFor(globalKey(), -1);
    for (let e = 0; e < E; e++) level.counts[e] = load[e]! * factor;
    level.totals[0] = total * factor;
    model.concentrations[0] = E;
    return model;
  });
  return new Predictor({
    strategy: 'default',
    modelName: options.modelName,
    numExperts: E,
    topK: options.topK,
    moeLayers: expertLoad.map((_, layer) => layer),
    chunk: options.chunk,
    contextTokens: 0,
    usePreviousLayer: false,
    hasAttention: false,
    intervalLevel: options.intervalLevel,
    batchTokens: options.batchTokens,
    halfLifeTokens: options.halfLifeTokens,
    driftThreshold: options.driftThreshold,
    // The global row's Dirichlet posterior variance is part of the model variance; nothing calibrates φ.
    overdispersion: layers.map(() => 1),
    ladders: expertLoad.map(() => ['global'] as LevelKind[]),
    layers,
    drift: { baselineLogLikelihood: Number.NaN, baselineStandardDeviation: Number.NaN },
    calibrationTokens: 0,
  });
}

/** The key of the global level (what computeLevelKeys gives every token at level 0). */
function globalKey(): number {
  const keys = new Float64Array(1);
  computeLevelKeys(
    { tokens: new Int32Array(1) },
    0,
    ['global'],
    { numLayers: 1, topK: 1, chunk: 1, contextTokens: 0 },
    keys,
  );
  return keys[0]!;
}
