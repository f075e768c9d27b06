import { renderBatchView } from './batch-view.js';
import type { ReportCostBar, ReportCostCurve, ReportData, ReportFrontierPoint } from './report-data.js';
import {
  axes,
  card,
  empty,
  escapeHtml,
  type Frame,
  formatNumber,
  logAxis,
  niceAxis,
  palette,
} from './report-html.js';

/**
 * Renders a self-contained HTML report: inline CSS, inline SVG charts and a few lines of inline JS
 * for tooltips. No fonts, scripts or styles are fetched, so it opens offline and can be mailed.
 * Every chart is an `<svg data-chart="…">` whose data marks carry `class="mark"` (the browser test
 * counts them).
 */
export function renderReport(data: ReportData): string {
  const sections = [
    renderHighlights(data),
    renderText(data),
    data.batch ? renderBatchView(data.batch) : '',
    data.costCurves
      ? card(
          'Cost against the baselines over load',
          `${escapeHtml(data.costCurves.yLabel)} against ${escapeHtml(data.costCurves.xLabel)}, both on log scales; dashed lines mark where Switchyard stops being cheaper`,
          renderCostCurves(data),
        )
      : '',
    shown(data, 'popularity')
      ? card('Expert popularity per layer', heatmapSubtitle(data), renderHeatmap(data))
      : '',
    '<div class="grid2">',
    data.costCurves
      ? ''
      : card(
          'Cost against the baselines',
          data.costs ? `${escapeHtml(data.costs.unit)}, lower is better` : '',
          renderCosts(data),
        ),
    shown(data, 'convergence')
      ? card(
          'Bayesian optimisation convergence',
          data.convergence ? `best ${escapeHtml(data.convergence.unit)} after each evaluation` : '',
          renderConvergence(data),
        )
      : '',
    '</div>',
    shown(data, 'frontier')
      ? card(
          'Cost–throughput frontier',
          '$ per million tokens against tokens per second; the line joins the Pareto-optimal plans',
          renderFrontier(data),
        )
      : '',
    renderDeployment(data),
    renderNotes(data),
  ];
  const modelLine = data.model
    ? `${escapeHtml(data.model.name)} · ${data.model.layers} MoE layers × ${data.model.experts} experts, top-${data.model.topK}`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(data.title)}</title>
<style>${styles}</style>
</head>
<body>
<header>
  <div class="brand">switchyard<span>report</span></div>
  <h1>${escapeHtml(data.title)}</h1>
  ${data.subtitle ? `<p class="sub">${escapeHtml(data.subtitle)}</p>` : ''}
  <p class="meta">${modelLine}${modelLine ? ' · ' : ''}generated ${escapeHtml(data.generatedAt)}</p>
</header>
<main>
${sections.filter(Boolean).join('\n')}
</main>
<div id="tip" role="tooltip"></div>
<script>${script}</script>
</body>
</html>
`;
}

function shown(data: ReportData, section: 'popularity' | 'convergence' | 'frontier'): boolean {
  return !data.omit?.includes(section);
}

function renderHighlights(data: ReportData): string {
  if (!data.highlights?.length) return '';
  const items = data.highlights
    .map(
      (item) =>
        `<div class="kpi"><div class="kpi-label">${escapeHtml(item.label)}</div><div class="kpi-value">${escapeHtml(item.value)}</div>${item.detail ? `<div class="kpi-detail">${escapeHtml(item.detail)}</div>` : ''}</div>`,
    )
    .join('');
  return `<section class="kpis">${items}</section>`;
}

function renderText(data: ReportData): string {
  if (!data.text) return '';
  return card(
    'Generated text',
    data.text.generatedBy ? escapeHtml(data.text.generatedBy) : '',
    `<pre class="text"><span class="prompt">${escapeHtml(data.text.prompt)}</span>${escapeHtml(data.text.completion)}</pre>`,
  );
}

function heatmapSubtitle(data: ReportData): string {
  return data.popularity ? `share of routed tokens per expert · ${escapeHtml(data.popularity.source)}` : '';
}

/** Sequential colour scale (light to dark blue) for shares in [0, 1]. */
export function heatColor(share: number): string {
  const stops: Array<[number, number, number]> = [
    [248, 250, 252],
    [191, 219, 254],
    [96, 165, 250],
    [37, 99, 235],
    [30, 58, 138],
  ];
  const t = Math.min(Math.max(share, 0), 1) * (stops.length - 1);
  const index = Math.min(Math.floor(t), stops.length - 2);
  const f = t - index;
  const [a, b] = [stops[index]!, stops[index + 1]!];
  const mix = (i: number): number => Math.round(a[i]! + (b[i]! - a[i]!) * f);
  return `rgb(${mix(0)},${mix(1)},${mix(2)})`;
}

function renderHeatmap(data: ReportData): string {
  const layers = data.popularity?.layers ?? [];
  if (layers.length === 0 || layers.every((l) => l.tokens.length === 0))
    return empty('heatmap', 'routing data');
  const experts = Math.max(...layers.map((l) => l.tokens.length));
  const shares = layers.map((l) => {
    const total = l.tokens.reduce((sum, x) => sum + x, 0);
    return l.tokens.map((x) => (total > 0 ? x / total : 0));
  });
  const maxShare = Math.max(...shares.flat(), 1e-9);
  const cell = Math.max(24, Math.min(64, Math.floor(720 / experts)));
  const cellHeight = Math.max(22, Math.min(44, cell * 0.7));
  const left = 70;
  const top = 26;
  const width = left + experts * cell + 110;
  const height = top + layers.length * cellHeight + 10;
  const marks: string[] = [];
  layers.forEach((layer, row) => {
    shares[row]!.forEach((share, expert) => {
      const x = left + expert * cell;
      const y = top + row * cellHeight;
      const scaled = share / maxShare;
      const tip = `layer ${layer.layer}, expert ${expert}: ${(share * 100).toFixed(2)} % (${formatNumber(layer.tokens[expert] ?? 0)} tokens)`;
      marks.push(
        `<rect class="mark" x="${x + 1}" y="${y + 1}" width="${cell - 2}" height="${cellHeight - 2}" rx="3" fill="${heatColor(scaled)}" data-tip="${escapeHtml(tip)}"/>`,
      );
      if (cell >= 34 && (layer.tokens[expert] ?? 0) > 0) {
        marks.push(
          `<text x="${x + cell / 2}" y="${y + cellHeight / 2 + 4}" text-anchor="middle" class="cell-label" fill="${scaled > 0.55 ? '#fff' : palette.text}">${(share * 100).toFixed(share < 0.1 ? 1 : 0)}</text>`,
        );
      }
    });
    marks.push(
      `<text x="${left - 10}" y="${top + row * cellHeight + cellHeight / 2 + 4}" text-anchor="end" class="axis-label">layer ${layer.layer}</text>`,
    );
  });
  for (let expert = 0; expert < experts; expert++) {
    marks.push(
      `<text x="${left + expert * cell + cell / 2}" y="${top - 8}" text-anchor="middle" class="axis-label">e${expert}</text>`,
    );
  }
  // Legend: the scale runs from 0 to the largest share.
  const legendX = left + experts * cell + 24;
  const legendHeight = layers.length * cellHeight - 2;
  const gradientStops = [0, 0.25, 0.5, 0.75, 1]
    .map((t) => `<stop offset="${t * 100}%" stop-color="${heatColor(1 - t)}"/>`)
    .join('');
  marks.push(
    `<defs><linearGradient id="heat-legend" x1="0" y1="0" x2="0" y2="1">${gradientStops}</linearGradient></defs>`,
    `<rect x="${legendX}" y="${top + 1}" width="14" height="${legendHeight}" rx="3" fill="url(#heat-legend)"/>`,
    `<text x="${legendX + 20}" y="${top + 10}" class="axis-label">${(maxShare * 100).toFixed(1)} %</text>`,
    `<text x="${legendX + 20}" y="${top + legendHeight}" class="axis-label">0 %</text>`,
  );
  return `<svg data-chart="heatmap" viewBox="0 0 ${width} ${height}" width="100%" style="max-width:${width}px" role="img" aria-label="expert popularity heatmap">${marks.join('')}</svg>`;
}

/** "77 % cheaper" when ours costs less than the baseline, "3.1× the cost" when it costs more. */
export function compareCost(ours: number, baseline: number): string {
  if (ours <= baseline) return `ours ${Math.round((1 - ours / baseline) * 100)} % cheaper`;
  return `ours ${(ours / baseline).toFixed(1)}× dearer`;
}

function barColor(bar: ReportCostBar): string {
  return bar.kind === 'baseline'
    ? palette.baseline
    : bar.kind === 'measured'
      ? palette.measured
      : palette.switchyard;
}

function renderCosts(data: ReportData): string {
  const bars = (data.costs?.bars ?? []).filter((bar) => Number.isFinite(bar.value));
  if (bars.length === 0) return empty('costs', 'cost figures');
  const maxValue = Math.max(...bars.map((b) => b.value), 1e-12);
  const reference = bars.find((b) => b.kind === 'switchyard')?.value;
  const left = 170;
  const barArea = 260;
  const rowHeight = 46;
  const width = left + barArea + 200;
  const height = bars.length * rowHeight + 10;
  const marks = bars.map((bar, i) => {
    const y = 6 + i * rowHeight;
    const length = Math.max(2, (bar.value / maxValue) * barArea);
    const relative =
      reference !== undefined && bar.kind === 'baseline' && bar.value > 0
        ? ` · ${compareCost(reference, bar.value)}`
        : '';
    const tip = `${bar.label}: ${formatNumber(bar.value)} ${data.costs?.unit ?? ''}${bar.detail ? ` — ${bar.detail}` : ''}`;
    return (
      `<text x="${left - 10}" y="${y + 21}" text-anchor="end" class="bar-label">${escapeHtml(bar.label)}</text>` +
      `<rect class="mark" x="${left}" y="${y}" width="${length.toFixed(1)}" height="${rowHeight - 14}" rx="4" fill="${barColor(bar)}" data-tip="${escapeHtml(tip)}"/>` +
      `<text x="${left + length + 8}" y="${y + 21}" class="bar-value">${formatNumber(bar.value)}<tspan class="muted">${escapeHtml(relative)}</tspan></text>`
    );
  });
  return `<svg data-chart="costs" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="cost comparison">${marks.join('')}</svg>`;
}

function renderConvergence(data: ReportData): string {
  const history = (data.convergence?.bestCost ?? []).filter((v) => Number.isFinite(v));
  if (history.length === 0) return empty('convergence', 'optimisation history');
  const frame: Frame = { width: 560, height: 300, left: 78, right: 16, top: 14, bottom: 44 };
  const x = niceAxis(1, Math.max(history.length, 2), 6);
  const y = niceAxis(Math.min(...history), Math.max(...history), 5);
  const sx = (v: number): number =>
    frame.left + ((v - x.min) / (x.max - x.min)) * (frame.width - frame.left - frame.right);
  const sy = (v: number): number =>
    frame.height - frame.bottom - ((v - y.min) / (y.max - y.min)) * (frame.height - frame.top - frame.bottom);
  // Best-so-far is a step function: it holds until the next improvement.
  let path = `M${sx(1)},${sy(history[0]!)}`;
  for (let i = 1; i < history.length; i++) path += ` H${sx(i + 1)} V${sy(history[i]!)}`;
  const dots = history
    .map((v, i) => {
      const improved = i === 0 || v < history[i - 1]!;
      if (!improved && history.length > 40) return '';
      const tip = `evaluation ${i + 1}: best ${formatNumber(v)} ${data.convergence?.unit ?? ''}`;
      return `<circle class="mark" cx="${sx(i + 1)}" cy="${sy(v)}" r="${improved ? 4 : 2.5}" fill="${improved ? palette.switchyard : '#fff'}" stroke="${palette.switchyard}" stroke-width="1.5" data-tip="${escapeHtml(tip)}"/>`;
    })
    .join('');
  return `<svg data-chart="convergence" viewBox="0 0 ${frame.width} ${frame.height}" width="100%" role="img" aria-label="optimisation convergence">${axes(frame, x, y, 'evaluation', data.convergence?.unit ?? '')}<path d="${path}" fill="none" stroke="${palette.switchyard}" stroke-width="2"/>${dots}</svg>`;
}

const seriesColors = ['#f97316', '#64748b', '#a855f7', '#0d9488'];

/** One log–log line chart per curve: Switchyard's cost and each baseline's over load, break-evens marked. */
function renderCostCurves(data: ReportData): string {
  const curves = (data.costCurves?.curves ?? []).filter((curve) =>
    curve.series.some((series) => series.points.some((p) => p.x > 0 && p.y > 0)),
  );
  if (curves.length === 0) return empty('cost-curve', 'cost curves');
  return `<div class="grid2">${curves.map((curve) => renderCostCurve(curve, data.costCurves!)).join('')}</div>`;
}

function renderCostCurve(curve: ReportCostCurve, labels: { xLabel: string; yLabel: string }): string {
  const frame: Frame = { width: 560, height: 320, left: 78, right: 16, top: 30, bottom: 44 };
  const points = curve.series.flatMap((series) => series.points).filter((p) => p.x > 0 && p.y > 0);
  const x = logAxis(Math.min(...points.map((p) => p.x)), Math.max(...points.map((p) => p.x)));
  const y = logAxis(Math.min(...points.map((p) => p.y)), Math.max(...points.map((p) => p.y)));
  const plotWidth = frame.width - frame.left - frame.right;
  const plotHeight = frame.height - frame.top - frame.bottom;
  const sx = (v: number): number =>
    frame.left + ((Math.log10(v) - Math.log10(x.min)) / (Math.log10(x.max) - Math.log10(x.min))) * plotWidth;
  const syLog = (v: number): number =>
    frame.height -
    frame.bottom -
    ((Math.log10(v) - Math.log10(y.min)) / (Math.log10(y.max) - Math.log10(y.min))) * plotHeight;
  const yTicks = y.ticks
    .map(
      (t) =>
        `<line x1="${frame.left}" x2="${frame.width - frame.right}" y1="${syLog(t)}" y2="${syLog(t)}" stroke="${palette.grid}"/><text x="${frame.left - 8}" y="${syLog(t) + 4}" text-anchor="end" class="axis-label">${formatNumber(t)}</text>`,
    )
    .join('');
  const xTicks = x.ticks
    .map(
      (t) =>
        `<text x="${sx(t)}" y="${frame.height - frame.bottom + 18}" text-anchor="middle" class="axis-label">${formatNumber(t)}</text>`,
    )
    .join('');
  let baselineIndex = 0;
  const lines = curve.series.map((series) => {
    const color =
      series.kind === 'switchyard'
        ? palette.switchyard
        : seriesColors[baselineIndex++ % seriesColors.length]!;
    const kept = series.points.filter((p) => p.x > 0 && p.y > 0);
    const path = kept
      .map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${syLog(p.y).toFixed(1)}`)
      .join(' ');
    const dots = kept
      .map(
        (p) =>
          `<circle class="mark" cx="${sx(p.x).toFixed(1)}" cy="${syLog(p.y).toFixed(1)}" r="3.5" fill="${color}" data-tip="${escapeHtml(`${series.label}: ${formatNumber(p.y)} ${labels.yLabel} at ${formatNumber(p.x)} ${labels.xLabel}`)}"/>`,
      )
      .join('');
    return {
      svg: `<path d="${path}" fill="none" stroke="${color}" stroke-width="${series.kind === 'switchyard' ? 2.5 : 1.5}"/>${dots}`,
      color,
      label: series.label,
    };
  });
  const breakEvens = curve.breakEven
    .filter((point) => point.x >= x.min && point.x <= x.max)
    .map(
      (point, i) =>
        `<line class="mark" x1="${sx(point.x)}" x2="${sx(point.x)}" y1="${frame.top}" y2="${frame.height - frame.bottom}" stroke="#0f172a" stroke-dasharray="4 4" data-tip="${escapeHtml(`${point.label}: ${point.detail}`)}"/><text x="${sx(point.x) + 4}" y="${frame.top + 12 + 13 * i}" class="axis-label">${escapeHtml(point.label)}</text>`,
    )
    .join('');
  const legend = lines
    .map(
      (line, i) =>
        `<rect x="${frame.left + 4 + i * 130}" y="6" width="10" height="10" fill="${line.color}"/><text x="${frame.left + 18 + i * 130}" y="15" class="axis-label">${escapeHtml(line.label)}</text>`,
    )
    .join('');
  return `<figure class="curve"><figcaption>${escapeHtml(curve.title)}</figcaption><svg data-chart="cost-curve" viewBox="0 0 ${frame.width} ${frame.height}" width="100%" role="img" aria-label="${escapeHtml(curve.title)}">${yTicks}${xTicks}<line x1="${frame.left}" x2="${frame.width - frame.right}" y1="${frame.height - frame.bottom}" y2="${frame.height - frame.bottom}" stroke="${palette.axis}"/><text x="${(frame.left + frame.width - frame.right) / 2}" y="${frame.height - 6}" text-anchor="middle" class="axis-title">${escapeHtml(labels.xLabel)}</text><text transform="translate(14 ${(frame.top + frame.height - frame.bottom) / 2}) rotate(-90)" text-anchor="middle" class="axis-title">${escapeHtml(labels.yLabel)}</text>${legend}${lines.map((line) => line.svg).join('')}${breakEvens}</svg></figure>`;
}

/** Points not beaten on both axes (more throughput and lower cost), sorted by throughput. */
export function paretoFrontier(points: readonly ReportFrontierPoint[]): ReportFrontierPoint[] {
  return points
    .filter(
      (p) =>
        !points.some(
          (q) =>
            q !== p &&
            q.throughputTokensPerS >= p.throughputTokensPerS &&
            q.costUsdPerMillionTokens <= p.costUsdPerMillionTokens &&
            (q.throughputTokensPerS > p.throughputTokensPerS ||
              q.costUsdPerMillionTokens < p.costUsdPerMillionTokens),
        ),
    )
    .sort((a, b) => a.throughputTokensPerS - b.throughputTokensPerS);
}

function renderFrontier(data: ReportData): string {
  const points = (data.frontier?.points ?? []).filter(
    (p) => Number.isFinite(p.throughputTokensPerS) && Number.isFinite(p.costUsdPerMillionTokens),
  );
  if (points.length === 0) return empty('frontier', 'cost and throughput figures');
  const frame: Frame = { width: 1100, height: 360, left: 78, right: 150, top: 16, bottom: 44 };
  const throughputs = points.map((p) => p.throughputTokensPerS).filter((v) => v > 0);
  // Throughputs can span orders of magnitude (a CPU cluster against functions): then use a log axis.
  const logX = throughputs.length > 1 && Math.max(...throughputs) / Math.min(...throughputs) > 20;
  const x = logX
    ? logAxis(Math.min(...throughputs), Math.max(...throughputs))
    : niceAxis(0, Math.max(...points.map((p) => p.throughputTokensPerS)), 6);
  const y = niceAxis(0, Math.max(...points.map((p) => p.costUsdPerMillionTokens)), 5);
  const plotWidth = frame.width - frame.left - frame.right;
  const sx = (v: number): number =>
    logX
      ? frame.left +
        ((Math.log10(Math.max(v, x.min)) - Math.log10(x.min)) / (Math.log10(x.max) - Math.log10(x.min))) *
          plotWidth
      : frame.left + ((v - x.min) / (x.max - x.min)) * plotWidth;
  const sy = (v: number): number =>
    frame.height - frame.bottom - ((v - y.min) / (y.max - y.min)) * (frame.height - frame.top - frame.bottom);
  const frontier = paretoFrontier(points.filter((p) => p.kind !== 'baseline'));
  const line = frontier
    .map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p.throughputTokensPerS)},${sy(p.costUsdPerMillionTokens)}`)
    .join(' ');
  const order = { candidate: 0, baseline: 1, chosen: 2 } as const;
  const marks = [...points]
    .sort((a, b) => order[a.kind] - order[b.kind])
    .map((p) => {
      const cx = sx(p.throughputTokensPerS);
      const cy = sy(p.costUsdPerMillionTokens);
      const tip = `${p.label}: ${formatNumber(p.throughputTokensPerS)} tokens/s, $${formatNumber(p.costUsdPerMillionTokens)} per M tokens`;
      if (p.kind === 'baseline') {
        return (
          `<rect class="mark" x="${cx - 6}" y="${cy - 6}" width="12" height="12" transform="rotate(45 ${cx} ${cy})" fill="${palette.baselinePoint}" data-tip="${escapeHtml(tip)}"/>` +
          `<text x="${cx + 11}" y="${cy + 4}" class="point-label">${escapeHtml(p.label)}</text>`
        );
      }
      if (p.kind === 'chosen') {
        return (
          `<circle class="mark" cx="${cx}" cy="${cy}" r="8" fill="${palette.chosen}" stroke="#fff" stroke-width="2" data-tip="${escapeHtml(tip)}"/>` +
          `<text x="${cx + 12}" y="${cy - 8}" class="point-label strong">${escapeHtml(p.label)}</text>`
        );
      }
      return `<circle class="mark" cx="${cx}" cy="${cy}" r="5" fill="${palette.candidate}" stroke="#64748b" stroke-width="1" data-tip="${escapeHtml(tip)}"/>`;
    })
    .join('');
  const legend = [
    [palette.chosen, 'chosen plan'],
    [palette.candidate, 'other plans'],
    [palette.baselinePoint, 'baselines'],
  ]
    .map(
      ([color, label], i) =>
        `<circle cx="${frame.width - frame.right + 24}" cy="${frame.top + 10 + i * 20}" r="5" fill="${color}"/><text x="${frame.width - frame.right + 34}" y="${frame.top + 14 + i * 20}" class="axis-label">${label}</text>`,
    )
    .join('');
  return `<svg data-chart="frontier" viewBox="0 0 ${frame.width} ${frame.height}" width="100%" role="img" aria-label="cost against throughput">${axes(frame, x, y, logX ? 'throughput (tokens/s, log scale)' : 'throughput (tokens/s)', '$ per million tokens', sx)}${line ? `<path d="${line}" fill="none" stroke="${palette.chosen}" stroke-width="1.5" stroke-dasharray="5 4" opacity="0.7"/>` : ''}${marks}${legend}</svg>`;
}

function renderDeployment(data: ReportData): string {
  if (!data.deployment?.length) return '';
  const rows = data.deployment
    .map(
      (row) =>
        `<tr><td>${row.layer}</td><td>${escapeHtml(row.experts)}</td><td class="num">${row.memoryMB.toLocaleString('en-US')}</td><td class="num">${row.replicas}</td><td class="num">${row.predictedTokens === undefined ? '' : formatNumber(row.predictedTokens)}</td><td>${escapeHtml(row.method ?? '')}</td></tr>`,
    )
    .join('');
  return card(
    'Deployment',
    'one function per expert group; replicas share the predicted load',
    `<div class="table-wrap"><table><thead><tr><th>layer</th><th>experts</th><th class="num">memory MB</th><th class="num">replicas</th><th class="num">predicted tokens</th><th>transport</th></tr></thead><tbody>${rows}</tbody></table></div>`,
  );
}

function renderNotes(data: ReportData): string {
  if (!data.notes?.length) return '';
  return card(
    'Notes',
    '',
    `<ul class="notes">${data.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`,
  );
}

const styles = `
*{box-sizing:border-box}
body{margin:0;background:#f1f5f9;color:#0f172a;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header{background:linear-gradient(120deg,#0f172a,#1e3a8a);color:#e2e8f0;padding:28px 40px 26px}
.brand{font-weight:700;letter-spacing:.04em;color:#93c5fd;font-size:13px;text-transform:uppercase}
.brand span{margin-left:8px;color:#64748b}
h1{margin:6px 0 4px;font-size:26px;color:#fff;font-weight:650}
.sub{margin:0;color:#cbd5e1}
.meta{margin:8px 0 0;color:#94a3b8;font-size:13px}
main{max-width:1180px;margin:0 auto;padding:24px 28px 48px}
.card{background:#fff;border-radius:12px;box-shadow:0 1px 2px rgba(15,23,42,.06),0 1px 8px rgba(15,23,42,.04);padding:20px 24px;margin:0 0 20px}
.card h2{margin:0 0 2px;font-size:17px;font-weight:650}
.hint{margin:0 0 14px;color:#64748b;font-size:13px}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:20px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:14px;margin:0 0 20px}
.kpi{background:#fff;border-radius:12px;padding:14px 18px;box-shadow:0 1px 2px rgba(15,23,42,.06);border-top:3px solid #2563eb}
.kpi-label{color:#64748b;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.kpi-value{font-size:21px;white-space:nowrap;font-weight:650;font-variant-numeric:tabular-nums;margin-top:2px}
.kpi-detail{color:#64748b;font-size:12px}
pre.text{white-space:pre-wrap;font:14px/1.55 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f8fafc;border:1px solid #e2e8f0;border-radius:8px;padding:14px 16px;margin:8px 0 0}
.prompt{background:#dbeafe;color:#1e3a8a;border-radius:3px}
svg{display:block;height:auto;overflow:visible}
svg text{font-family:inherit}
.axis-label{font-size:12px;fill:#64748b}
.axis-title{font-size:12px;fill:#475569;font-weight:600}
.cell-label{font-size:11px;font-variant-numeric:tabular-nums;pointer-events:none}
.bar-label{font-size:13px;fill:#334155}
.bar-value{font-size:13px;fill:#0f172a;font-weight:600;font-variant-numeric:tabular-nums}
.muted{fill:#64748b;font-weight:400}
.point-label{font-size:12px;fill:#475569}
.point-label.strong{fill:#1e3a8a;font-weight:650}
.mark{transition:opacity .15s}
.mark:hover{opacity:.75;cursor:default}
.empty{padding:28px;text-align:center;color:#64748b;background:#f8fafc;border:1px dashed #cbd5e1;border-radius:8px}
.table-wrap{max-height:420px;overflow:auto}
table{border-collapse:collapse;width:100%;font-size:13px;font-variant-numeric:tabular-nums}
th,td{padding:6px 10px;border-bottom:1px solid #e2e8f0;text-align:left}
th{position:sticky;top:0;background:#fff;color:#475569;font-weight:600}
.num{text-align:right}
ul.notes{margin:0;padding-left:20px;color:#334155}
figure.curve{margin:0}
figure.curve figcaption{font-size:13px;font-weight:600;color:#334155;margin:0 0 4px}
#tip{position:fixed;pointer-events:none;background:#0f172a;color:#f8fafc;font-size:12px;padding:6px 9px;border-radius:6px;opacity:0;transition:opacity .1s;max-width:320px;z-index:10}
`;

const script = `
(function () {
  var tip = document.getElementById('tip');
  document.addEventListener('mousemove', function (event) {
    var target = event.target;
    var text = target && target.getAttribute ? target.getAttribute('data-tip') : null;
    if (!text) { tip.style.opacity = '0'; return; }
    tip.textContent = text;
    tip.style.left = Math.min(event.clientX + 14, window.innerWidth - tip.offsetWidth - 8) + 'px';
    tip.style.top = (event.clientY + 14) + 'px';
    tip.style.opacity = '1';
  });
})();
`;
