import { median } from '@switchyard/core';
import type { JobRun, ReplayRun } from './batch-bench.js';

/** One configuration of the job over its runs: the median and the worst run. */
export interface JobSummaryRow {
  mode: JobRun['mode'];
  target: JobRun['target'];
  maxBatchTokens: number | null;
  runs: number;
  tokens: number;
  tokensPerSecondMedian: number;
  /** The slowest run. */
  tokensPerSecondWorst: number;
  usdPerMillionTokensMedian: number;
  /** The dearest run. */
  usdPerMillionTokensWorst: number;
  failed: number;
}

export interface ReplaySummaryRow {
  scenario: ReplayRun['scenario'];
  runs: number;
  ttftP50MsMedian: number | null;
  ttftP50MsWorst: number | null;
  ttftP99MsMedian: number | null;
  ttftP99MsWorst: number | null;
  batchTokensPerSecondMedian: number | null;
  batchTokensPerSecondWorst: number | null;
  interactiveFailed: number;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return [...groups.values()];
}

export function summarizeJobRuns(runs: readonly JobRun[]): JobSummaryRow[] {
  return groupBy(runs, (run) => `${run.mode}|${run.target}|${run.maxBatchTokens}`).map((group) => {
    const first = group[0]!;
    const rates = group.map((run) => run.tokensPerSecond);
    const prices = group.map((run) => run.usdPerMillionTokens);
    return {
      mode: first.mode,
      target: first.target,
      maxBatchTokens: first.maxBatchTokens,
      runs: group.length,
      tokens: first.tokens,
      tokensPerSecondMedian: median(rates),
      tokensPerSecondWorst: Math.min(...rates),
      usdPerMillionTokensMedian: median(prices),
      usdPerMillionTokensWorst: Math.max(...prices),
      failed: group.reduce((sum, run) => sum + run.failed, 0),
    };
  });
}

export function summarizeReplayRuns(runs: readonly ReplayRun[]): ReplaySummaryRow[] {
  const present = (values: (number | null)[]) => values.filter((value): value is number => value !== null);
  const medianOf = (values: (number | null)[]) =>
    present(values).length > 0 ? median(present(values)) : null;
  const extreme = (values: (number | null)[], pick: (...numbers: number[]) => number) =>
    present(values).length > 0 ? pick(...present(values)) : null;
  return groupBy(runs, (run) => run.scenario).map((group) => ({
    scenario: group[0]!.scenario,
    runs: group.length,
    ttftP50MsMedian: medianOf(group.map((run) => run.ttftP50Ms)),
    ttftP50MsWorst: extreme(
      group.map((run) => run.ttftP50Ms),
      Math.max,
    ),
    ttftP99MsMedian: medianOf(group.map((run) => run.ttftP99Ms)),
    ttftP99MsWorst: extreme(
      group.map((run) => run.ttftP99Ms),
      Math.max,
    ),
    batchTokensPerSecondMedian: medianOf(group.map((run) => run.batchTokensPerSecond)),
    batchTokensPerSecondWorst: extreme(
      group.map((run) => run.batchTokensPerSecond),
      Math.min,
    ),
    interactiveFailed: group.reduce((sum, run) => sum + run.interactiveFailed, 0),
  }));
}

const number = (value: number | null, digits = 1) =>
  value === null || !Number.isFinite(value)
    ? '–'
    : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const usd = (value: number) => (Number.isFinite(value) ? `$${value.toPrecision(3)}` : '–');

interface BatchResultForMarkdown {
  date: string;
  uptimeBefore: string;
  uptimeAfter: string;
  load1Before: number;
  load1After: number;
  machine: { cpus: number; model: string };
  settings: { requests: number; repetitions: number; speedup: number; replayRequests: number };
  cpuPrice: { usd: number; source: string };
  workload: { source: string; attribution: string; scale: number; maxContextTokens: number };
  interactive: { source: string };
  replayBatch: { source: string; requests: number };
  jobRuns: JobRun[];
  jobSummary: JobSummaryRow[];
  replayRuns: ReplayRun[];
  replaySummary: ReplaySummaryRow[];
}

/** The benchmark's results as Markdown: settings and load, the summaries, the ratios, every run. */
export function batchMarkdown(result: BatchResultForMarkdown): string {
  const lines: string[] = [];
  lines.push('# Batch benchmark (issue #20)', '');
  lines.push(
    `${result.date}, ${result.machine.cpus} × ${result.machine.model}. Load (1 min) ${result.load1Before.toFixed(1)} before, ${result.load1After.toFixed(1)} after — the machine was shared, so absolute figures are noisy; the ratios were measured side by side with the configurations interleaved.`,
    '',
    `- before: \`${result.uptimeBefore}\``,
    `- after: \`${result.uptimeAfter}\``,
    `- job: ${result.settings.requests} greedy completions, sizes from ${result.workload.source}, scaled ×${result.workload.scale.toFixed(4)} (the trace's 99th percentile of prompt + output → the model's ${result.workload.maxContextTokens}-token context); ${result.settings.repetitions} runs of each configuration.`,
    `- sizes: ${result.workload.attribution}.`,
    `- in-process $: host CPU seconds × $${result.cpuPrice.usd.toExponential(3)}/vCPU-s (${result.cpuPrice.source}); local $: the embedded runtime's REPORT lines at Lambda prices (the host's own CPU for attention and routing is not in it).`,
    '',
  );
  lines.push('## The job', '');
  lines.push(
    '| mode | target | max batch tokens | runs | tokens | tokens/s median (worst) | $/M tokens median (worst) | failed |',
  );
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|');
  for (const row of result.jobSummary) {
    lines.push(
      `| ${row.mode} | ${row.target} | ${row.maxBatchTokens ?? '–'} | ${row.runs} | ${row.tokens} | ${number(row.tokensPerSecondMedian)} (${number(row.tokensPerSecondWorst)}) | ${usd(row.usdPerMillionTokensMedian)} (${usd(row.usdPerMillionTokensWorst)}) | ${row.failed} |`,
    );
  }
  const find = (mode: JobRun['mode'], target: string, budget: number | null) =>
    result.jobSummary.find(
      (row) => row.mode === mode && row.target === target && row.maxBatchTokens === budget,
    );
  const ratios: string[] = [];
  for (const row of result.jobSummary) {
    if (row.mode !== 'batch job') continue;
    const inProcess = find('batch job', 'in-process', row.maxBatchTokens);
    if (row.target === 'local' && inProcess)
      ratios.push(
        `- ${row.maxBatchTokens} tokens/step: local ÷ in-process — tokens/s ${number(row.tokensPerSecondMedian / inProcess.tokensPerSecondMedian, 2)}×, $/M tokens ${number(row.usdPerMillionTokensMedian / inProcess.usdPerMillionTokensMedian, 2)}×`,
      );
    const alone = find('server, one at a time', row.target, null);
    if (alone)
      ratios.push(
        `- ${row.target}, ${row.maxBatchTokens} tokens/step: batch job ÷ one at a time through the server — tokens/s ${number(row.tokensPerSecondMedian / alone.tokensPerSecondMedian, 2)}×, $/M tokens ${number(row.usdPerMillionTokensMedian / alone.usdPerMillionTokensMedian, 2)}×`,
      );
  }
  if (ratios.length > 0) lines.push('', 'Ratios of the medians:', '', ...ratios);
  lines.push('', '## Arrival replay beside a Batch API job', '');
  lines.push(
    `${result.settings.replayRequests} interactive streamed completions from ${result.interactive.source}, at the trace's arrival times ÷ ${result.settings.speedup.toFixed(2)}, through the server (experts in process); the batch is ${result.replayBatch.requests} requests from ${result.replayBatch.source} through \`POST /v1/batches\`, in the scheduler's batch class.`,
    '',
  );
  lines.push(
    '| scenario | runs | TTFT p50 ms median (worst) | TTFT p99 ms median (worst) | batch tokens/s median (worst) | interactive failed |',
  );
  lines.push('|---|---:|---:|---:|---:|---:|');
  for (const row of result.replaySummary) {
    lines.push(
      `| ${row.scenario} | ${row.runs} | ${number(row.ttftP50MsMedian, 0)} (${number(row.ttftP50MsWorst, 0)}) | ${number(row.ttftP99MsMedian, 0)} (${number(row.ttftP99MsWorst, 0)}) | ${number(row.batchTokensPerSecondMedian)} (${number(row.batchTokensPerSecondWorst)}) | ${row.interactiveFailed} |`,
    );
  }
  lines.push('', '## Every run', '');
  lines.push(
    '| mode | target | max batch tokens | run | tokens | wall s | tokens/s | host CPU s | billed GB-s | invocations | $ | $/M tokens |',
  );
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const run of result.jobRuns) {
    lines.push(
      `| ${run.mode} | ${run.target} | ${run.maxBatchTokens ?? '–'} | ${run.run} | ${run.tokens} | ${number(run.wallSeconds, 2)} | ${number(run.tokensPerSecond)} | ${number(run.hostCpuSeconds, 2)} | ${number(run.billedGbSeconds, 2)} | ${run.invocations} | ${usd(run.usd)} | ${usd(run.usdPerMillionTokens)} |`,
    );
  }
  lines.push(
    '',
    '| replay scenario | run | interactive | TTFT p50 ms | TTFT p99 ms | latency p50 ms | batch requests | batch tokens | batch s | batch tokens/s |',
  );
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const run of result.replayRuns) {
    lines.push(
      `| ${run.scenario} | ${run.run} | ${run.interactiveRequests} | ${number(run.ttftP50Ms, 0)} | ${number(run.ttftP99Ms, 0)} | ${number(run.latencyP50Ms, 0)} | ${run.batchRequests} | ${run.batchTokens} | ${number(run.batchSeconds, 2)} | ${number(run.batchTokensPerSecond)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
