import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { samplePlan } from '../../test/sample-plan.js';
import { reportFromPlan } from './from-plan.js';
import { paretoFrontier, renderReport } from './render-report.js';
import type { ReportFrontierPoint } from './report-data.js';
import { escapeHtml, formatNumber, niceAxis } from './report-html.js';

function marks(html: string, chart: string): number {
  const svg = new RegExp(`<svg data-chart="${chart}"[\\s\\S]*?</svg>`).exec(html)?.[0] ?? '';
  return (svg.match(/class="mark"/g) ?? []).length;
}

describe('renderReport', () => {
  it('draws one heatmap cell per layer and expert, one bar per cost and one dot per evaluation', () => {
    const plan = samplePlan();
    const html = renderReport(reportFromPlan(plan, { generatedAt: 'now' }));
    expect(marks(html, 'heatmap')).toBe(4 * 8);
    expect(marks(html, 'costs')).toBe(1 + Object.keys(plan.baselines).length);
    expect(marks(html, 'convergence')).toBe(plan.search?.bestCostHistory?.length);
    expect(marks(html, 'frontier')).toBe(3);
  });

  it('is self-contained: no external scripts, styles, fonts or images', () => {
    const html = renderReport(reportFromPlan(samplePlan(), { generatedAt: 'now' }));
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    expect(html).not.toMatch(/@import|url\(\s*['"]?https?:/i);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('says a chart is missing instead of drawing invented data', () => {
    const html = renderReport({ title: 't', generatedAt: 'now' });
    expect(html).toContain('data-empty="heatmap"');
    expect(html).toContain('data-empty="convergence"');
    expect(html).not.toContain('data-chart=');
  });

  it('draws cost curves with their break-even lines in place of the bars, and leaves out omitted sections', () => {
    const html = renderReport({
      ...reportFromPlan(samplePlan(), { generatedAt: 'now' }),
      costCurves: {
        xLabel: 'batches/s',
        yLabel: '$ per hour',
        curves: [
          {
            title: 'test',
            series: [
              { label: 'Switchyard', kind: 'switchyard', points: [1, 10, 100].map((x) => ({ x, y: x })) },
              { label: 'cluster', kind: 'baseline', points: [1, 10, 100].map((x) => ({ x, y: 5 + x / 10 })) },
            ],
            breakEven: [{ label: 'vs cluster', x: 5.6, detail: 'cheaper below' }],
          },
        ],
      },
      omit: ['frontier'],
    });
    expect(marks(html, 'cost-curve')).toBe(3 + 3 + 1);
    expect(html).not.toContain('data-chart="costs"');
    expect(html).not.toContain('Cost–throughput frontier');
    expect(marks(html, 'heatmap')).toBe(4 * 8);
  });

  it('escapes text from its input', () => {
    const html = renderReport({ title: '<script>alert(1)</script>', generatedAt: 'now', notes: ['a & b'] });
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('a &amp; b');
    expect(escapeHtml(`"'<>&`)).toBe('&quot;&#39;&lt;&gt;&amp;');
  });
});

describe('niceAxis', () => {
  it('covers the data with round ticks', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
        (low, span) => {
          const axis = niceAxis(low, low + span);
          expect(axis.min).toBeLessThanOrEqual(low);
          expect(axis.max).toBeGreaterThanOrEqual(low + span - 1e-9 * Math.abs(low + span));
          expect(axis.ticks.length).toBeGreaterThanOrEqual(2);
          expect(axis.ticks.length).toBeLessThanOrEqual(12);
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe('paretoFrontier', () => {
  const point = fc.record({
    label: fc.constant('p'),
    throughputTokensPerS: fc.integer({ min: 1, max: 1000 }),
    costUsdPerMillionTokens: fc.integer({ min: 1, max: 1000 }),
    kind: fc.constant('candidate' as const),
  });

  it('keeps exactly the points no other point beats on both cost and throughput', () => {
    fc.assert(
      fc.property(fc.array(point, { minLength: 1, maxLength: 30 }), (points: ReportFrontierPoint[]) => {
        const frontier = paretoFrontier(points);
        expect(frontier.length).toBeGreaterThan(0);
        for (const p of points) {
          const dominated = points.some(
            (q) =>
              q.throughputTokensPerS >= p.throughputTokensPerS &&
              q.costUsdPerMillionTokens <= p.costUsdPerMillionTokens &&
              (q.throughputTokensPerS > p.throughputTokensPerS ||
                q.costUsdPerMillionTokens < p.costUsdPerMillionTokens),
          );
          expect(frontier.includes(p)).toBe(!dominated);
        }
      }),
      { seed: 7, numRuns: 200 },
    );
  });
});

describe('formatNumber', () => {
  it('keeps three significant digits', () => {
    expect(formatNumber(0.000512)).toBe('0.000512');
    expect(formatNumber(12345.6)).toBe('12,346');
    expect(formatNumber(0.123456)).toBe('0.123');
    expect(formatNumber(0)).toBe('0');
  });
});
