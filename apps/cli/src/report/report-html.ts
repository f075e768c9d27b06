/**
 * The HTML and SVG pieces every report section is drawn with: escaping, number labels, cards, axes
 * and the palette. Self-contained: nothing here fetches anything.
 */
export const palette = {
  switchyard: '#2563eb',
  measured: '#0d9488',
  baseline: '#9ca3af',
  candidate: '#cbd5e1',
  chosen: '#2563eb',
  baselinePoint: '#f97316',
  axis: '#94a3b8',
  grid: '#e2e8f0',
  text: '#334155',
};

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** Compact number for labels: 3 significant digits, thousands separators, tiny values in e-notation. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs === 0) return '0';
  if (abs < 1e-6) return value.toExponential(2);
  if (abs < 0.001) return String(Number(value.toPrecision(3)));
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toLocaleString('en-US', { maximumSignificantDigits: 3 });
}

export function card(title: string, subtitle: string, body: string): string {
  return `<section class="card"><h2>${escapeHtml(title)}</h2>${subtitle ? `<p class="hint">${subtitle}</p>` : ''}${body}</section>`;
}

export function empty(chart: string, what: string): string {
  return `<div class="empty" data-empty="${chart}">No ${escapeHtml(what)} in this report's input.</div>`;
}

export interface Axis {
  min: number;
  max: number;
  ticks: number[];
}

/** "Nice" axis bounds and ticks (1, 2, 5 × 10^k steps). */
export function niceAxis(min: number, max: number, count = 5): Axis {
  if (!(max > min)) {
    const pad = Math.abs(max) * 0.1 || 1;
    return niceAxis(min - pad, max + pad, count);
  }
  const rough = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  let lo = Math.floor(min / step) * step;
  let hi = Math.ceil(max / step) * step;
  // Division can underflow for values far below the step: keep the data inside the axis anyway.
  if (lo > min) lo -= step;
  if (hi < max) hi += step;
  const ticks: number[] = [];
  for (let t = lo; t <= hi + step / 2; t += step) ticks.push(Number(t.toPrecision(12)));
  return { min: lo, max: hi, ticks };
}

/** Decades covering [min, max] (both > 0), ticks at powers of ten. */
export function logAxis(min: number, max: number): Axis {
  const lo = 10 ** Math.floor(Math.log10(min));
  const hi = 10 ** Math.ceil(Math.log10(max));
  const ticks: number[] = [];
  for (let t = lo; t <= hi * 1.0001; t *= 10) ticks.push(Number(t.toPrecision(6)));
  return { min: lo, max: hi === lo ? lo * 10 : hi, ticks: hi === lo ? [lo, lo * 10] : ticks };
}

export interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export function axes(
  frame: Frame,
  x: Axis,
  y: Axis,
  xLabel: string,
  yLabel: string,
  scaleX?: (v: number) => number,
): string {
  const sx =
    scaleX ??
    ((v: number): number =>
      frame.left + ((v - x.min) / (x.max - x.min)) * (frame.width - frame.left - frame.right));
  const sy = (v: number): number =>
    frame.height - frame.bottom - ((v - y.min) / (y.max - y.min)) * (frame.height - frame.top - frame.bottom);
  const parts: string[] = [];
  for (const t of y.ticks) {
    parts.push(
      `<line x1="${frame.left}" x2="${frame.width - frame.right}" y1="${sy(t)}" y2="${sy(t)}" stroke="${palette.grid}"/>`,
      `<text x="${frame.left - 8}" y="${sy(t) + 4}" text-anchor="end" class="axis-label">${formatNumber(t)}</text>`,
    );
  }
  for (const t of x.ticks) {
    parts.push(
      `<text x="${sx(t)}" y="${frame.height - frame.bottom + 18}" text-anchor="middle" class="axis-label">${formatNumber(t)}</text>`,
    );
  }
  parts.push(
    `<line x1="${frame.left}" x2="${frame.width - frame.right}" y1="${frame.height - frame.bottom}" y2="${frame.height - frame.bottom}" stroke="${palette.axis}"/>`,
    `<text x="${(frame.left + frame.width - frame.right) / 2}" y="${frame.height - 6}" text-anchor="middle" class="axis-title">${escapeHtml(xLabel)}</text>`,
    `<text transform="translate(14 ${(frame.top + frame.height - frame.bottom) / 2}) rotate(-90)" text-anchor="middle" class="axis-title">${escapeHtml(yLabel)}</text>`,
  );
  return parts.join('');
}
