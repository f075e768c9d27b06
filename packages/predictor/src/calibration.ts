import { type Logger, normalQuantile } from '@switchyard/core';
import { subtractFold } from './default-strategy.js';
import { calibrateDispersion, neededDispersion } from './dispersion.js';
import type { FitContext } from './fit-context.js';
import { fitPaperLayer } from './paper-strategy.js';
import { Predictor, type PredictorState } from './predictor.js';

/**
 * Cross-fitting: for each contiguous fold, the model without the fold (default strategy: the full
 * counts minus the fold's, by conjugacy, restored afterwards; paper: refitted with the same α) predicts
 * the fold's B-token batches. Every (batch, layer, expert) gives the variance factor its actual load
 * needed, r² / (z² · model variance); φ per layer is the nominal-level quantile of those factors (a
 * split-conformal rule: on data like the calibration text, the intervals cover the nominal share).
 * The drift baseline is the batches' mean log-likelihood per selection.
 */
export function calibrate(state: PredictorState, context: FitContext, logger: Logger): void {
  const { numTokens: T, numExperts: E, topK: K, data, chunk } = context;
  const B = Math.min(state.batchTokens, Math.floor(T / (2 * context.options.calibrationFolds)));
  const folds = context.options.calibrationFolds;
  if (B < 1) {
    logger.warn('predictor: too little calibration data to calibrate intervals', { tokens: T });
    return;
  }
  const L = state.layers.length;
  const z = normalQuantile(0.5 + state.intervalLevel / 2);
  const needed: number[][] = Array.from({ length: L }, () => []);
  const batchLogLikelihoods: number[] = [];
  const foldTokens = Math.ceil(T / folds / chunk) * chunk;
  const rowOut = new Int32Array(1);
  const mean = new Float64Array(E);
  const variance = new Float64Array(E);
  const actual = new Float64Array(E);
  const byRowId = state.strategy === 'default' && context.finest !== undefined;
  // Default strategy: every calibration token's deepest context is its finest level's row.
  const finest = byRowId ? context.finest : undefined;
  const fullPredictor = new Predictor(state);
  const selections = data.topkIds;
  const ranges: { from: number; to: number; firstBatch: number }[] = [];
  for (let fold = 0; fold < folds; fold++) {
    const from = fold * foldTokens;
    const to = Math.min(T, from + foldTokens);
    if (to - from < B) continue;
    ranges.push({ from, to, firstBatch: batchLogLikelihoods.length });
    for (let start = from; start + B <= to; start += B) batchLogLikelihoods.push(0);
  }
  // Default strategy: a fold's model is the full counts minus the fold's (conjugacy). The fold's
  // counts are counted once per token at its finest row and aggregated up (sequential), then
  // subtracted row by row; scratch arrays per level are shared by all layers.
  const levelSizes: number[] = [];
  if (byRowId)
    for (const model of state.layers)
      model.levels.forEach((level, c) => {
        levelSizes[c] = Math.max(levelSizes[c] ?? 0, level.rows);
      });
  const full = levelSizes.map((rows) => ({
    counts: new Float64Array(rows * E),
    totals: new Float64Array(rows),
  }));
  const fold = levelSizes.map((rows) => ({
    counts: new Float64Array(rows * E),
    totals: new Float64Array(rows),
  }));
  // Layer by layer, so one layer's tables stay in cache while its folds' batches are predicted.
  for (let layer = 0; layer < L; layer++) {
    const model = state.layers[layer]!;
    if (byRowId)
      model.levels.forEach((level, c) => {
        full[c]!.counts.set(level.counts.subarray(0, level.rows * E));
        full[c]!.totals.set(level.totals.subarray(0, level.rows));
      });
    for (const { from, to, firstBatch } of ranges) {
      let foldPredictor = fullPredictor;
      if (byRowId) subtractFold(model, finest![layer]!, selections, layer, T, from, to, full, fold);
      else {
        const alphas = Float64Array.from(model.concentrations);
        const paperCell = model.auxiliaryConcentration;
        const fixed = Number.isNaN(paperCell) ? alphas : Float64Array.from([...alphas, paperCell]);
        const foldModel = fitPaperLayer(context, layer, from, to, fixed);
        foldPredictor = new Predictor({
          ...state,
          layers: state.layers.map((other, index) => (index === layer ? foldModel : other)),
        });
      }
      for (let start = from, batch = firstBatch; start + B <= to; start += B, batch++) {
        let logLikelihood = 0;
        mean.fill(0);
        variance.fill(0);
        actual.fill(0);
        if (finest) {
          const { level, row } = finest[layer]!;
          const accumulator = foldPredictor.accumulator(layer);
          accumulator.clear();
          for (let t = start; t < start + B; t++) accumulator.addToken(level[t]!, row[t]!);
          accumulator.finish(mean, variance);
          for (let t = start; t < start + B; t++) {
            // About one log per token: multiply the K probabilities, flushing before underflow.
            let product = 1;
            for (let j = 0; j < K; j++) {
              const expert = selections[(layer * T + t) * K + j]!;
              actual[expert]! += 1;
              product *= accumulator.probability(level[t]!, row[t]!, expert);
              if (product < 1e-150) {
                logLikelihood += Math.log(product);
                product = 1;
              }
            }
            logLikelihood += Math.log(product);
          }
        } else {
          const keys = context.keys[layer]!;
          foldPredictor.accumulateLoad(layer, keys, T, start, start + B, mean, variance);
          const foldModel = foldPredictor.state.layers[layer]!;
          for (let t = start; t < start + B; t++) {
            const level = foldModel.deepestRow(keys, T, t, rowOut);
            for (let j = 0; j < K; j++) {
              const expert = selections[(layer * T + t) * K + j]!;
              actual[expert]! += 1;
              logLikelihood += Math.log(foldModel.expertProbability(level, rowOut[0]!, expert));
            }
          }
        }
        for (let e = 0; e < E; e++)
          needed[layer]!.push(neededDispersion(actual[e]! - mean[e]!, variance[e]!, z));
        batchLogLikelihoods[batch]! += logLikelihood / (B * K * L);
      }
    }
    if (byRowId)
      model.levels.forEach((level, c) => {
        level.counts.set(full[c]!.counts.subarray(0, level.rows * E));
        level.totals.set(full[c]!.totals.subarray(0, level.rows));
      });
  }
  if (batchLogLikelihoods.length === 0) return;
  state.overdispersion = needed.map((factors) => calibrateDispersion(factors, state.intervalLevel));
  const average = batchLogLikelihoods.reduce((a, b) => a + b, 0) / batchLogLikelihoods.length;
  const spread =
    batchLogLikelihoods.length > 1
      ? Math.sqrt(
          batchLogLikelihoods.reduce((a, b) => a + (b - average) ** 2, 0) / (batchLogLikelihoods.length - 1),
        )
      : Math.abs(average) * 0.05;
  state.drift = { baselineLogLikelihood: average, baselineStandardDeviation: spread };
  logger.debug('predictor: calibrated', {
    overdispersion: state.overdispersion,
    batches: batchLogLikelihoods.length,
  });
}
