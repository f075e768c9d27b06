import type { BatchAcceptanceResult } from './batch-acceptance.js';

export interface BatchAcceptanceReport extends Omit<BatchAcceptanceResult, 'inputPath'> {
  checks: { outputsEqual: boolean; invocationsEqualReports: boolean; gbSecondsEqualReports: boolean };
  plan: string;
  measuredAt: string;
}

const fixed = (value: number, digits: number): string => value.toFixed(digits);

/** bench-results/batch-acceptance.md: the job, both runs side by side, the checks. */
export function batchAcceptanceMarkdown(report: BatchAcceptanceReport): string {
  const { job, inProcess, local, reports, checks } = report;
  const row = (name: string, a: string, b: string) => `| ${name} | ${a} | ${b} |`;
  return [
    '# Batch acceptance run (issue #20)',
    '',
    `${job.lines} lines (seed ${job.seed}), ${Math.round(job.chatShare * 100)} % chat, prompts ${job.minPromptBytes}–${job.maxPromptBytes} bytes, max_tokens ${job.minMaxTokens}–${job.maxMaxTokens}, greedy, on the bundled shakespeare-mixtral-8x2; local plan: ${report.plan}. 1-min load ${fixed(report.loadAverage1m.start, 1)} → ${fixed(report.loadAverage1m.end, 1)}; ${report.measuredAt}.`,
    'Re-run: `pnpm --filter @switchyard/cli bench:batch-acceptance` (architecture/batch.md, "Acceptance run").',
    '',
    '| | in process | local Lambda runtime |',
    '|---|---:|---:|',
    row(
      'requests / succeeded',
      `${inProcess.requests} / ${inProcess.succeeded}`,
      `${local.requests} / ${local.succeeded}`,
    ),
    row(
      'prompt + completion tokens',
      `${inProcess.promptTokens} + ${inProcess.completionTokens}`,
      `${local.promptTokens} + ${local.completionTokens}`,
    ),
    row('wall time (s)', fixed(inProcess.wallSeconds, 1), fixed(local.wallSeconds, 1)),
    row('tokens/s', fixed(inProcess.tokensPerSecond, 1), fixed(local.tokensPerSecond, 1)),
    row('billed GB-s', fixed(inProcess.billedGbSeconds, 3), fixed(local.billedGbSeconds, 3)),
    row('cost ($)', fixed(inProcess.costUsd, 6), fixed(local.costUsd, 6)),
    row('$/M tokens', fixed(inProcess.usdPerMillionTokens, 4), fixed(local.usdPerMillionTokens, 4)),
    row(
      'invocations / retries / failed',
      '–',
      `${local.invocations} / ${local.retries} / ${local.failedInvocations}`,
    ),
    '',
    `REPORT lines read off the wire: ${reports.lines} (${reports.failedLines} failed), ${fixed(reports.gbSeconds, 6)} GB-s.`,
    '',
    `Checks: outputs equal line by line ${checks.outputsEqual ? 'yes' : `NO (${report.differingLines.length} differ)`}; invocations = REPORT lines ${checks.invocationsEqualReports ? 'yes' : 'NO'}; billed GB-s = Σ REPORT lines ${checks.gbSecondsEqualReports ? 'yes' : 'NO'}.`,
    '',
  ].join('\n');
}
