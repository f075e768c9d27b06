import { noopLogger, parseWithSchema, type RoutingTrace } from '@switchyard/core';
import { calibrate } from './calibration.js';
import { countDefaultLayers } from './default-strategy.js';
import { createFitContext } from './fit-context.js';
import { type FitOptions, fitOptionsSchema } from './options.js';
import { fitPaperLayer } from './paper-strategy.js';
import { Predictor, type PredictorState } from './predictor.js';

/**
 * Fits a predictor on calibration routing traces (architecture/formats.md). Concentrations by empirical Bayes;
 * interval over-dispersion and the drift baseline by cross-fitting contiguous folds of the calibration data.
 */
export function fitPredictor(traces: RoutingTrace | RoutingTrace[], options: FitOptions = {}): Predictor {
  const { logger = noopLogger, ...rest } = options;
  const resolved = parseWithSchema(fitOptionsSchema, rest, 'fitPredictor options');
  const context = createFitContext(Array.isArray(traces) ? traces : [traces], resolved);
  const { numTokens: T, numExperts: E, topK: K, chunk, ladders } = context;
  const L = ladders.length;
  const layers =
    resolved.strategy === 'default'
      ? countDefaultLayers(context)
      : ladders.map((_, layer) => {
          const fixed = resolved.concentrations?.[layer];
          return fitPaperLayer(context, layer, 0, 0, fixed ? Float64Array.from(fixed) : undefined);
        });
  if (resolved.strategy === 'default') {
    let largest = 0;
    for (const model of layers) for (const level of model.levels) largest = Math.max(largest, level.rows * E);
    const scratch: [Float64Array, Float64Array] = [new Float64Array(largest), new Float64Array(largest)];
    layers.forEach((model, layer) => {
      const fixed = resolved.concentrations?.[layer];
      if (fixed) model.concentrations.set(fixed);
      else model.fitConcentrations(undefined, scratch);
    });
  }
  logger.debug('predictor: fitted counts', {
    strategy: resolved.strategy,
    tokens: T,
    concentrations: layers.map((model) => Array.from(model.concentrations)),
  });
  const state: PredictorState = {
    strategy: resolved.strategy,
    modelName: context.modelName,
    numExperts: E,
    topK: K,
    moeLayers: context.moeLayers,
    chunk,
    contextTokens: resolved.strategy === 'paper' ? 0 : resolved.contextTokens,
    usePreviousLayer: resolved.strategy === 'default' && resolved.usePreviousLayer,
    hasAttention: context.hasAttention,
    intervalLevel: resolved.intervalLevel,
    batchTokens: resolved.batchTokens,
    halfLifeTokens: resolved.halfLifeTokens,
    driftThreshold: resolved.driftThreshold,
    overdispersion: new Array<number>(L).fill(1),
    ladders,
    layers,
    drift: { baselineLogLikelihood: 0, baselineStandardDeviation: 1 },
    calibrationTokens: T,
  };
  calibrate(state, context, logger);
  return new Predictor(state);
}
