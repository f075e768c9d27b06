import { basename } from 'node:path';
import {
  type DeploymentPlan,
  deploymentPlanSchema,
  readRoutingTrace,
  SwitchyardError,
} from '@switchyard/core';
import { addExamples, addJsonOption } from '../help.js';
import { readJsonFileWithSchema, requireFile, writeTextFile } from '../io.js';
import { batchReportData } from '../report/batch-view.js';
import { batchReportFromJob, batchSummarySchema } from '../report/from-batch.js';
import { reportFromPlan } from '../report/from-plan.js';
import { renderReport } from '../report/render-report.js';
import type { CommandRegistrar } from './index.js';

interface ReportOptions {
  plan?: string;
  batch?: string;
  batchSummary?: string;
  traces?: string[];
  compare?: string[];
  out: string;
  title?: string;
  json?: boolean;
}

export const registerReport: CommandRegistrar = (program, context) => {
  const command = program
    .command('report')
    .description(
      'write a self-contained HTML report (heatmap, costs, BO convergence, frontier) for a plan, or the batch view of a run-batch job',
    )
    .option('--plan <file>', 'deployment plan JSON (from `switchyard plan`)')
    .option(
      '--batch <results.jsonl>',
      'a run-batch output (its state file beside it): report the job — figures, cost per line — instead of a plan',
    )
    .option(
      '--batch-summary <summary.json>',
      "the job's `run-batch --json` summary, for its baselines and exact figures",
    )
    .option(
      '--traces <files...>',
      'routing traces (.safetensors with .json sidecar) for the popularity heatmap',
    )
    .option('--compare <files...>', 'other plan JSON files to place on the cost–throughput frontier')
    .option('--out <file>', 'where to write the HTML', 'switchyard-report.html')
    .option('--title <text>', 'report title');
  addJsonOption(command);
  addExamples(command, [
    {
      command: 'switchyard report --plan plan.json --out report.html',
      description: 'report on a plan written by `switchyard plan`',
    },
    {
      command:
        'switchyard report --plan plan.json --traces fixtures/traces/shakespeare-mixtral-8x2/heldout.safetensors --out report.html',
      description: 'draw expert popularity from a routing trace',
    },
    {
      command:
        'switchyard run-batch -i requests.jsonl -o results.jsonl --cost --json > summary.json && switchyard report --batch results.jsonl --batch-summary summary.json --out batch.html',
      description: 'the batch view of a job: its figures, baselines and per-line cost distribution',
    },
  ]);
  command.action(async (options: ReportOptions) => {
    if (options.batch !== undefined) {
      if (options.plan !== undefined)
        throw new SwitchyardError({
          code: 'INVALID_INPUT',
          message: '--batch and --plan make different reports: give one of them',
          location: '--batch',
        });
      const output = requireFile(options.batch, 'batch output');
      // Loaded on use, as run-batch does: serving pulls in onnxruntime.
      const { readJobState } = await import('@switchyard/serving/http');
      const summary =
        options.batchSummary === undefined
          ? undefined
          : readJsonFileWithSchema(options.batchSummary, batchSummarySchema, 'batch summary');
      const data = batchReportData(batchReportFromJob(output, readJobState(output), summary), {
        title: options.title,
      });
      const written = await writeTextFile(options.out, renderReport(data));
      context.output.result({ report: written, sections: Object.keys(data) }, () => {
        context.output.line(`wrote ${written}`);
      });
      return;
    }
    if (options.plan === undefined)
      throw new SwitchyardError({
        code: 'INVALID_INPUT',
        message: 'give --plan <plan.json> (a plan report) or --batch <results.jsonl> (a batch job report)',
        location: '--plan',
      });
    if (options.batchSummary !== undefined)
      throw new SwitchyardError({
        code: 'INVALID_INPUT',
        message: '--batch-summary goes with --batch <results.jsonl>',
        location: '--batch-summary',
      });
    const plan: DeploymentPlan = readJsonFileWithSchema(options.plan, deploymentPlanSchema, 'plan');
    const candidates = (options.compare ?? []).map((path) =>
      readJsonFileWithSchema(path, deploymentPlanSchema, 'plan to compare'),
    );
    const traces = [];
    for (const path of options.traces ?? []) {
      traces.push({
        name: basename(path),
        trace: await readRoutingTrace(requireFile(path, 'routing trace')),
      });
    }
    const data = reportFromPlan(plan, {
      traces,
      candidates,
      title: options.title,
    });
    const written = await writeTextFile(options.out, renderReport(data));
    context.output.result({ report: written, sections: Object.keys(data) }, () => {
      context.output.line(`wrote ${written}`);
    });
  });
};
