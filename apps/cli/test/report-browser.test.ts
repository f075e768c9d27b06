import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchChromium } from '@switchyard/testing/browser';
import { runCli } from '@switchyard/testing/cli';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samplePlan } from './sample-plan.js';

/** Opens a report written by `switchyard report` in Debian's chromium and checks it renders. */
describe('switchyard report in a browser', () => {
  const work = mkdtempSync(join(tmpdir(), 'switchyard-report-'));
  let browser: Browser;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ browser, close } = await launchChromium());
  });
  afterAll(async () => {
    await close?.();
    rmSync(work, { recursive: true, force: true });
  });

  it('renders every chart with data and logs no console errors', async () => {
    const planPath = join(work, 'plan.json');
    const reportPath = join(work, 'report.html');
    writeFileSync(planPath, JSON.stringify(samplePlan()));
    const run = await runCli([
      'report',
      '--plan',
      planPath,
      '--traces',
      'fixtures/traces/shakespeare-mixtral-8x2/heldout.safetensors',
      '--out',
      reportPath,
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);

    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(pathToFileURL(reportPath).href, { waitUntil: 'load' });

    const charts = await page.$$eval('svg[data-chart]', (svgs) =>
      svgs.map((svg) => ({
        chart: svg.getAttribute('data-chart'),
        marks: svg.querySelectorAll('.mark').length,
        width: svg.getBoundingClientRect().width,
      })),
    );
    expect(charts.map((c) => c.chart).sort()).toEqual(['convergence', 'costs', 'frontier', 'heatmap']);
    for (const chart of charts) {
      expect(chart.marks, chart.chart ?? '').toBeGreaterThan(0);
      expect(chart.width, chart.chart ?? '').toBeGreaterThan(100);
    }
    expect(charts.find((c) => c.chart === 'heatmap')?.marks).toBe(32);
    expect(await page.$$('[data-empty]')).toHaveLength(0);

    // The tooltip script runs: hovering a heatmap cell shows its figures.
    await page.hover('svg[data-chart="heatmap"] .mark');
    await expect
      .poll(() => page.$eval('#tip', (tip) => tip.textContent))
      .toMatch(/layer 0, expert 0: [\d.]+ %/);

    expect(problems).toEqual([]);
    // Self-contained: the only request is the file itself.
    expect(requests).toEqual([pathToFileURL(reportPath).href]);
    await page.close();
  });
});
