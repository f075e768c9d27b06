import { readRoutingTrace, SwitchyardError } from '@switchyard/core';
import {
  evaluatePredictor,
  fitPredictor,
  type PredictorStrategy,
  predictorStrategies,
  readPredictorFile,
  writePredictorFile,
} from '@switchyard/predictor';
import { addExamples, addJsonOption } from '../help.js';
import { parsePositiveIntegerOption, requireFile } from '../io.js';
import type { CommandRegistrar } from './index.js';

const calibration = 'fixtures/traces/shakespeare-mixtral-8x2/calibration.safetensors';
const heldout = 'fixtures/traces/shakespeare-mixtral-8x2/heldout.safetensors';

/** `switchyard predict fit|eval`: expert-popularity predictors from routing traces. */
export const registerPredict: CommandRegistrar = (program, context) => {
  const predict = program
    .command('predict')
    .description('fit and score expert-popularity predictors on routing traces');

  const fit = predict
    .command('fit')
    .description('fit a predictor on calibration routing traces and write it as JSON')
    .requiredOption('--traces <files...>', 'calibration trace(s) (.safetensors with .json sidecar)')
    .requiredOption('--out <file>', 'predictor file to write')
    .option('--strategy <name>', predictorStrategies.join(' | '), 'default')
    .option(
      '--max-rows <n>',
      'bound on stored count rows (least informative pruned)',
      parsePositiveIntegerOption,
    );
  addJsonOption(fit);
  addExamples(fit, [
    {
      command: `switchyard predict fit --traces ${calibration} --out predictor.json`,
      description: 'our default strategy',
    },
    {
      command: `switchyard predict fit --traces ${calibration} --out paper.json --strategy paper`,
      description: "the paper's token-id predictor (baseline)",
    },
  ]);
  fit.action(
    async (options: {
      traces: string[];
      out: string;
      strategy: string;
      maxRows?: number;
      json?: boolean;
    }) => {
      if (!(predictorStrategies as readonly string[]).includes(options.strategy))
        throw new SwitchyardError({
          code: 'INVALID_INPUT',
          message: `unknown strategy "${options.strategy}" (use ${predictorStrategies.join(' or ')})`,
          location: '--strategy',
        });
      const traces = [];
      for (const path of options.traces)
        traces.push(await readRoutingTrace(requireFile(path, 'routing trace')));
      const predictor = fitPredictor(traces, {
        strategy: options.strategy as PredictorStrategy,
        logger: context.logger,
      });
      const pruned = await writePredictorFile(
        options.out,
        predictor,
        options.maxRows ? { maxRows: options.maxRows } : {},
      );
      const summary = {
        out: options.out,
        strategy: predictor.strategy,
        tokens: predictor.state.calibrationTokens,
        layers: predictor.numLayers,
        experts: predictor.numExperts,
        topK: predictor.topK,
        keptRows: pruned.keptRows,
        prunedRows: pruned.prunedRows,
        prunedSelections: pruned.prunedSelections,
      };
      context.output.result(summary, () => context.output.table([summary], { title: 'predictor fitted' }));
    },
  );

  const evaluate = predict
    .command('eval')
    .description('score a predictor on a held-out routing trace (hitAtK, loadErr, intervalCoverage)')
    .requiredOption('--predictor <file>', 'predictor file from `predict fit`')
    .requiredOption('--traces <file>', 'held-out trace (.safetensors with .json sidecar)')
    .option(
      '--batch-tokens <n>',
      'tokens per batch B for loadErr and coverage',
      parsePositiveIntegerOption,
      1024,
    );
  addJsonOption(evaluate);
  addExamples(evaluate, [
    {
      command: `switchyard predict eval --predictor predictor.json --traces ${heldout}`,
      description: 'hitAtK, loadErr, 90 % interval coverage and width (relative to the load) per layer',
    },
  ]);
  evaluate.action(
    async (options: { predictor: string; traces: string; batchTokens: number; json?: boolean }) => {
      const predictor = await readPredictorFile(requireFile(options.predictor, 'predictor file'));
      const trace = await readRoutingTrace(requireFile(options.traces, 'routing trace'));
      const result = evaluatePredictor(predictor, trace, { batchTokens: options.batchTokens });
      context.output.result({ strategy: predictor.strategy, ...result }, () =>
        context.output.table(
          [
            ...result.perLayer.map((layer) => ({
              layer: String(predictor.state.moeLayers[layer.layer]),
              hitAtK: layer.hitAtK,
              loadErr: layer.loadErr,
              intervalCoverage: layer.intervalCoverage,
              intervalWidthPerLoad: layer.relativeIntervalWidth,
            })),
            {
              layer: 'all',
              hitAtK: result.hitAtK,
              loadErr: result.loadErr,
              intervalCoverage: result.intervalCoverage,
              intervalWidthPerLoad: result.relativeIntervalWidth,
            },
          ],
          {
            title: `${predictor.strategy} predictor on ${result.tokens} tokens, ${result.batches} batches of ${result.batchTokens} (interval ${result.intervalLevel * 100} %)`,
          },
        ),
      );
    },
  );
};
