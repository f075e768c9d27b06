import { readRoutingTrace, SwitchyardError } from '@switchyard/core';
import {
  evaluatePredictor,
  fitPredictor,
  predictorStrategies,
  readPredictorFile,
  writePredictorFile,
} from '@switchyard/predictor';
import type { CommandRegistrar } from './index.js';

function positiveInteger(flag: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed <= 0)
      throw new SwitchyardError({
        code: 'INVALID_INPUT',
        message: `${flag} must be a positive integer, got "${value}"`,
      });
    return parsed;
  };
}

/** `switchyard predict fit|eval`: expert-popularity predictor from routing traces. */
export const registerPredict: CommandRegistrar = (program, context) => {
  const predict = program
    .command('predict')
    .description('Fit and score expert-popularity predictors on routing traces');

  predict
    .command('fit')
    .description('fit a predictor on calibration routing traces and write it as JSON')
    .requiredOption('--traces <paths...>', 'calibration trace(s) (.safetensors with .json sidecar)')
    .requiredOption('--out <path>', 'predictor file to write')
    .option('--strategy <name>', `${predictorStrategies.join(' | ')}`, 'default')
    .option(
      '--max-rows <n>',
      'bound on stored count rows (least informative pruned)',
      positiveInteger('--max-rows'),
    )
    .option('--json', 'print a JSON summary')
    .action(
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
        const traces = await Promise.all(options.traces.map((path) => readRoutingTrace(path)));
        const predictor = fitPredictor(traces, {
          strategy: options.strategy as (typeof predictorStrategies)[number],
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
        if (options.json) context.output.json(summary);
        else context.output.table([summary], { title: 'predictor fitted' });
      },
    );

  predict
    .command('eval')
    .description('score a predictor on held-out routing traces (hitAtK, loadErr, intervalCoverage)')
    .requiredOption('--predictor <path>', 'predictor file from `predict fit`')
    .requiredOption('--traces <path>', 'held-out trace (.safetensors with .json sidecar)')
    .option(
      '--batch-tokens <n>',
      'tokens per batch B for loadErr and coverage',
      positiveInteger('--batch-tokens'),
      1024,
    )
    .option('--json', 'print JSON')
    .action(async (options: { predictor: string; traces: string; batchTokens: number; json?: boolean }) => {
      const predictor = await readPredictorFile(options.predictor);
      const trace = await readRoutingTrace(options.traces);
      const result = evaluatePredictor(predictor, trace, { batchTokens: options.batchTokens });
      if (options.json) {
        context.output.json({ strategy: predictor.strategy, ...result });
        return;
      }
      context.output.table(
        [
          ...result.perLayer.map((layer) => ({
            layer: String(predictor.state.moeLayers[layer.layer]),
            hitAtK: layer.hitAtK,
            loadErr: layer.loadErr,
            intervalCoverage: layer.intervalCoverage,
          })),
          {
            layer: 'all',
            hitAtK: result.hitAtK,
            loadErr: result.loadErr,
            intervalCoverage: result.intervalCoverage,
          },
        ],
        {
          title: `${predictor.strategy} predictor on ${result.tokens} tokens, ${result.batches} batches of ${result.batchTokens} (interval ${result.intervalLevel * 100} %)`,
        },
      );
    });
};
