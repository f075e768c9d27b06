import { quantile } from '@switchyard/core';
import type { ReportBatch, ReportData } from './report-data.js';
import { axes, card, empty, escapeHtml, type Frame, formatNumber, niceAxis, palette } from './report-html.js';

const usd = (value: number) => `$${formatNumber(value)}`;

/**
 * A report on one batch job: its headline figures as cards, its $/M tokens beside the baselines as the
 * cost bars, and the batch view (job table, per-line cost distribution). The plan's sections do not
 * apply and are left out.
 */
export function batchReportData(
  batch: ReportBatch,
  options: { title?: string | undefined; generatedAt?: string | undefined } = {},
): ReportData {
  const tokens = batch.promptTokens + batch.completionTokens;
  return {
    title: options.title ?? `Batch job ${batch.output}`,
    subtitle: `${batch.requests.toLocaleString('en-US')} requests${batch.target ? ` · experts ${batch.target}` : ''}${batch.finished ? '' : ' · unfinished'}`,
    generatedAt: options.generatedAt ?? new Date().toISOString(),
    highlights: [
      { label: 'requests', value: batch.requests.toLocaleString('en-US'), detail: `${batch.failed} failed` },
      {
        label: 'tokens',
        value: formatNumber(tokens),
        detail: `${formatNumber(batch.completionTokens)} generated`,
      },
      {
        label: 'tokens/s',
        value: formatNumber(batch.tokensPerSecond),
        detail: `${formatNumber(batch.wallSeconds)} s wall`,
      },
      {
        label: 'billed GB-s',
        value: formatNumber(batch.billedGbSeconds),
        detail: `${batch.invocations.toLocaleString('en-US')} invocations`,
      },
      { label: 'cost', value: usd(batch.costUsd) },
      { label: '$/M tokens', value: usd(batch.usdPerMillionTokens) },
    ],
    costs: {
      unit: '$ per million tokens',
      bars: [
        { label: 'this job', value: batch.usdPerMillionTokens, kind: 'measured', detail: 'billed' },
        ...batch.baselines.map((baseline) => ({
          label: baseline.name,
          value: baseline.usdPerMillionTokens,
          kind: 'baseline' as const,
          ...(baseline.description ? { detail: baseline.description } : {}),
        })),
      ],
    },
    batch,
    notes: batch.baselines.length
      ? []
      : ['No baselines: give the job’s `run-batch --json` summary (--batch-summary) to compare with them.'],
    omit: ['popularity', 'convergence', 'frontier'],
  };
}

/** The batch view: the job's figures as a table and its per-line cost as a histogram with quantiles. */
export function renderBatchView(batch: ReportBatch): string {
  const rows: Array<[string, string]> = [
    ['output', batch.output],
    ['target', batch.target ?? 'unknown'],
    ['requests (succeeded / failed)', `${batch.requests} (${batch.succeeded} / ${batch.failed})`],
    [
      'prompt / completion tokens',
      `${formatNumber(batch.promptTokens)} / ${formatNumber(batch.completionTokens)}`,
    ],
    [
      'wall time (s), runs',
      `${formatNumber(batch.wallSeconds)}, ${batch.runs}${batch.finished ? '' : ' (unfinished)'}`,
    ],
    ['tokens/s', formatNumber(batch.tokensPerSecond)],
    ['billed GB-s, invocations', `${formatNumber(batch.billedGbSeconds)}, ${batch.invocations}`],
    ['cost, $/M tokens', `${usd(batch.costUsd)}, ${usd(batch.usdPerMillionTokens)}`],
    ...batch.baselines.map((baseline): [string, string] => [
      `baseline ${baseline.name}`,
      `${usd(baseline.usd)}, ${usd(baseline.usdPerMillionTokens)}/M tokens`,
    ]),
  ];
  const table = `<div class="table-wrap"><table data-table="batch"><tbody>${rows
    .map(([field, value]) => `<tr><th>${escapeHtml(field)}</th><td>${escapeHtml(value)}</td></tr>`)
    .join('')}</tbody></table></div>`;
  return [
    card('Batch job', 'from its output, state file and summary', table),
    card(
      'Cost per line',
      batch.lineCostsUsd.length
        ? `each answered line’s share of the billed expert invocations (${batch.lineCostsUsd.length} lines)`
        : '',
      renderLineCosts(batch.lineCostsUsd),
    ),
  ].join('\n');
}

/** Histogram of per-line $ (20 bins) with p50/p90/p99/max under it. */
function renderLineCosts(costs: readonly number[]): string {
  if (costs.length === 0) return empty('batch-line-costs', 'per-line costs (run the job with --cost)');
  const bins = 20;
  const low = Math.min(...costs);
  const high = Math.max(...costs);
  const width = high > low ? (high - low) / bins : 1;
  const counts = new Array<number>(bins).fill(0);
  for (const cost of costs) counts[Math.min(bins - 1, Math.floor((cost - low) / width))]! += 1;
  const frame: Frame = { width: 720, height: 260, left: 56, right: 16, top: 12, bottom: 44 };
  const x = niceAxis(low, high > low ? high : low + width * bins);
  const y = niceAxis(0, Math.max(...counts));
  const sx = (v: number) =>
    frame.left + ((v - x.min) / (x.max - x.min)) * (frame.width - frame.left - frame.right);
  const sy = (v: number) =>
    frame.height - frame.bottom - ((v - y.min) / (y.max - y.min)) * (frame.height - frame.top - frame.bottom);
  const marks = counts
    .map((count, index) => {
      const from = low + index * width;
      const left = sx(from);
      const right = Math.max(left + 1, sx(from + width) - 1);
      return count === 0
        ? ''
        : `<rect class="mark" x="${left}" y="${sy(count)}" width="${right - left}" height="${sy(0) - sy(count)}" fill="${palette.measured}" data-tip="${escapeHtml(`${count} lines at ${usd(from)}–${usd(from + width)}`)}"/>`;
    })
    .join('');
  const svg = `<svg data-chart="batch-line-costs" viewBox="0 0 ${frame.width} ${frame.height}" width="100%" role="img" aria-label="per-line cost distribution">${axes(frame, x, y, '$ per line', 'lines')}${marks}</svg>`;
  const stats = (
    [
      ['p50', 0.5],
      ['p90', 0.9],
      ['p99', 0.99],
      ['max', 1],
    ] as const
  )
    .map(([, q]) => `<td class="num">${usd(quantile(costs, q))}</td>`)
    .join('');
  return `${svg}<table><thead><tr><th class="num">p50</th><th class="num">p90</th><th class="num">p99</th><th class="num">max</th></tr></thead><tbody><tr>${stats}</tr></tbody></table>`;
}
