import { basename } from 'node:path';
import { type DeploymentPlan, deploymentPlanSchema, readRoutingTrace } from '@switchyard/core';
import { addExamples, addJsonOption } from '../help.js';
import { readJsonFileWithSchema, requireFile, writeTextFile } from '../io.js';
import { reportFromPlan } from '../report/from-plan.js';
import { renderReport } from '../report/render-report.js';
import type { CommandRegistrar } from './index.js';

interface ReportOptions {
  plan: string;
  traces?: string[];
  compare?: string[];
  out: string;
  title?: string;
  json?: boolean;
}

export const registerReport: CommandRegistrar = (program, context) => {
  const command = program
    .command('report')
    .description('write a self-contained HTML report (heatmap, costs, BO convergence, frontier) for a plan')
    .requiredOption('--plan <file>', 'deployment plan JSON (from `switchyard plan`)')
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
  ]);
  command.action(async (options: ReportOptions) => {
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
