import { basename, join, resolve } from 'node:path';
import type { DeploymentPlan } from '@switchyard/core';
import { runDemo } from '../demo/run-demo.js';
import { addExamples, addJsonOption } from '../help.js';
import {
  parseIntegerOption,
  parseNumberOption,
  parsePositiveIntegerOption,
  requireDirectory,
  requireFile,
  writeTextFile,
} from '../io.js';
import { resolveModelArgument } from '../model-argument.js';
import { addQuantizeOptions, type QuantizeFlags, quantizationFromFlags } from '../quantize-option.js';
import {
  baselineLabel,
  costPerMillionTokens,
  deploymentRows,
  throughputTokensPerS,
} from '../report/from-plan.js';
import { renderReport } from '../report/render-report.js';
import type { CommandRegistrar } from './index.js';

interface DemoCommandOptions extends QuantizeFlags {
  quantized: boolean;
  model?: string;
  traces?: string;
  profile?: string;
  prompt: string;
  tokens: number;
  temperature: number;
  seed: number;
  sloMs: number;
  batchTokens: number;
  out: string;
  json?: boolean;
}

type PlanCost = DeploymentPlan['baselines'][string];

function costRow(cost: PlanCost, tokensPerBatch: number, reference: number): Record<string, number | string> {
  const perMillion = costPerMillionTokens(cost, tokensPerBatch);
  return {
    '$/M tokens': Number(perMillion.toPrecision(4)),
    'vs Switchyard': perMillion === reference ? '' : `${(perMillion / reference).toFixed(2)}×`,
    'latency ms': Math.round(cost.latencyMs),
    'tokens/s': Math.round(throughputTokensPerS(cost, tokensPerBatch)),
  };
}

export const registerDemo: CommandRegistrar = (program, context) => {
  const command = program
    .command('demo')
    .description(
      'the whole system on the bundled Shakespeare model: profile, predict, plan, deploy, generate, bill, report',
    )
    .argument('[model]', 'checkpoint directory or hub id (default: the bundled shakespeare-mixtral-8x2)')
    .option('--model <dir>', 'the same as the positional model argument')
    .option('--traces <dir>', 'folder with calibration/heldout routing traces (default: the bundled ones)')
    .option(
      '--profile <file>',
      'measured compute profile (default: fixtures/profiles/<model>.json when present)',
    )
    .option('--prompt <text>', 'prompt to continue', 'ROMEO:\n')
    .option('--tokens <n>', 'tokens to generate', parsePositiveIntegerOption, 48)
    .option('--temperature <t>', 'sampling temperature (0 = greedy)', parseNumberOption, 0.8)
    .option('--seed <n>', 'sampling seed', parseIntegerOption, 1)
    .option('--slo-ms <ms>', 'latency SLO for one batch', parseNumberOption, 2000)
    .option('--batch-tokens <n>', 'tokens per batch the plan is sized for', parsePositiveIntegerOption, 1024)
    .option('--out <file>', 'where to write the HTML report', 'switchyard-demo.html')
    .option('--no-quantized', 'skip the float32 / int8 / int4 rows');
  addQuantizeOptions(command);
  addJsonOption(command);
  addExamples(command, [
    {
      command: 'switchyard demo',
      description: 'run everything on the bundled model and write switchyard-demo.html',
    },
    {
      command: "switchyard demo --prompt 'JULIET:' --tokens 200 --out juliet.html",
      description: 'another prompt',
    },
  ]);
  command.action(async (positional: string | undefined, options: DemoCommandOptions) => {
    const modelDir = resolveModelArgument(
      positional,
      options.model,
      context.env,
      join(context.fixturesDir, 'checkpoints/shakespeare-mixtral-8x2'),
    ).directory;
    const tracesDir = requireDirectory(
      options.traces ?? join(context.fixturesDir, 'traces/shakespeare-mixtral-8x2'),
      'traces directory',
    );
    const profilePath = options.profile
      ? requireFile(options.profile, 'compute profile')
      : join(context.fixturesDir, 'profiles', `${basename(modelDir)}.json`);
    const started = performance.now();
    const result = await runDemo(
      {
        modelDir,
        tracesDir,
        profilePath,
        prompt: options.prompt,
        maxNewTokens: options.tokens,
        temperature: options.temperature,
        seed: options.seed,
        sloMs: options.sloMs,
        tokensPerBatch: options.batchTokens,
        quantization: quantizationFromFlags(options),
        quantizedRows: options.quantized,
      },
      { output: context.output, logger: context.logger },
    );
    const reportPath = await writeTextFile(resolve(options.out), renderReport(result.report));
    const seconds = (performance.now() - started) / 1000;
    const { output } = context;
    output.result({ ...result, reportPath, seconds }, () => {
      output.line(output.color('bold', `Generated (${result.text.generatedBy}):`));
      output.line(`${output.color('cyan', result.text.prompt)}${result.text.completion}`);
      output.line();
      const plan = result.plan;
      if (plan) {
        output.table(
          deploymentRows(plan).map((row) => ({
            layer: row.layer,
            experts: row.experts,
            memoryMB: row.memoryMB,
            replicas: row.replicas,
            predictedTokens: Math.round(row.predictedTokens ?? 0),
            transport: row.method,
          })),
          {
            title: `Deployment (per ${plan.workload.tokensPerBatch}-token batch, SLO ${plan.workload.sloMs} ms)`,
          },
        );
        output.line();
        const tokens = plan.workload.tokensPerBatch;
        const ours = costPerMillionTokens(plan.predicted, tokens);
        output.table(
          [
            { deployment: `Switchyard (${plan.strategy})`, ...costRow(plan.predicted, tokens, ours) },
            ...Object.entries(plan.baselines).map(([key, cost]: [string, PlanCost]) => ({
              deployment: baselineLabel(key),
              ...costRow(cost, tokens, ours),
            })),
          ],
          { title: 'Projected cost (cost model, per million tokens)' },
        );
        output.line();
      }
      if (result.quantizedRows) {
        output.table(
          result.quantizedRows.map((row) => ({
            experts: row.format === 'none' ? 'float32' : row.format,
            'bytes/expert': row.bytesPerExpert,
            '$/M tokens': Number(row.usdPerMillionTokens.toPrecision(4)),
            'memory MB (all functions)': row.memoryMBTotal,
            'ms/token (1 thread)': Number(row.perTokenMsOneThread.toPrecision(3)),
            'bits/byte': Number(row.bitsPerToken.toFixed(4)),
            'vs float32': `${((row.bitsRelativeToFloat32 - 1) * 100).toFixed(2)} %`,
          })),
          {
            title:
              'Expert formats: planned cost (ODS, live profile of each format) and accuracy on held-out text',
          },
        );
        output.line();
      }
      if (result.bill) {
        const bill = result.bill;
        output.table(
          bill.byMemory.map((row) => ({
            memoryMB: row.memoryMB,
            invocations: row.invocations,
            'billed ms': row.billedDurationMs,
            'GB-s': Number(row.gbSeconds.toPrecision(4)),
          })),
          { title: 'Billed by the runtime for this run (sum of its REPORT lines)' },
        );
        output.line(
          `total: ${bill.invocations.toLocaleString('en-US')} invocations (${bill.coldStarts} cold starts), ${bill.billedDurationMs.toLocaleString('en-US')} billed ms, ${bill.gbSeconds.toPrecision(4)} GB-s = $${bill.computeUsd.toPrecision(3)} compute + $${bill.requestUsd.toPrecision(3)} requests = $${bill.totalUsd.toPrecision(3)} for ${bill.tokensProcessed} tokens (price table ${bill.priceTable})`,
        );
        output.line();
      }
      if (result.predictor) {
        const p = result.predictor;
        output.table(
          [
            {
              'hit@k': Number(p.hitAtK.toFixed(3)),
              load_err: Number(p.loadErr.toFixed(4)),
              [`${Math.round(p.intervalLevel * 100)} % interval coverage`]: Number(
                p.intervalCoverage.toFixed(3),
              ),
              'held-out tokens': p.tokens,
              'batch tokens': p.batchTokens,
            },
          ],
          { title: 'Predictor accuracy (fit on calibration, scored on held-out)' },
        );
        output.line();
      }
      output.table(
        result.steps.map((step) => ({
          step: step.step,
          status: step.status,
          seconds: Number(step.seconds.toFixed(2)),
          detail: step.detail,
        })),
        { title: 'Steps' },
      );
      output.line();
      output.line(`Report: ${reportPath}`);
      output.line(`Done in ${seconds.toFixed(1)} s.`);
    });
  });
};
