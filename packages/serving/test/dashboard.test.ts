import { existsSync } from 'node:fs';
import OpenAI from 'openai';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatchScheduler } from '../src/batch-scheduler.js';
import type { Engine } from '../src/engine.js';
import { type RunningServer, startServer } from '../src/http-server.js';
import { ToyBackend } from './toy-backend.js';

const chromiumPath = '/usr/bin/chromium';
const hasChromium = existsSync(chromiumPath);
if (!hasChromium) {
  process.stderr.write(
    `dashboard browser test skipped: ${chromiumPath} is absent (tooling/scripts/install-chromium.sh installs it)\n`,
  );
}
const apiKey = 'dashboard-key-123456';

describe.skipIf(!hasChromium)('dashboard in headless Chromium', () => {
  let engine: Engine;
  let server: RunningServer;
  let browser: Browser;
  let client: OpenAI;

  beforeAll(async () => {
    engine = createBatchScheduler(new ToyBackend(), { batching: 'continuous', maxBatchSize: 8 });
    server = await startServer({ engine }, { port: 0, apiKeys: [apiKey], historyIntervalMs: 200 });
    client = new OpenAI({ apiKey, baseURL: `${server.url}/v1`, maxRetries: 0 });
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await engine?.close();
  });

  it('renders live throughput, request counts and expert popularity', async () => {
    await client.completions.create({
      model: 'toy-alphabet',
      prompt: 'hello',
      max_tokens: 8,
      temperature: 0,
    });
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    await page.goto(`${server.url}/dashboard#key=${apiKey}`);
    await expect.poll(() => page.textContent('#status'), { timeout: 10_000 }).toMatch(/^live/);
    await expect
      .poll(async () => Number(await page.textContent('#tile-requests')), { timeout: 10_000 })
      .toBeGreaterThanOrEqual(1);
    expect(await page.textContent('#tile-tokens')).toBe('8');
    expect(await page.textContent('#model')).toContain('toy-alphabet');
    const cells = await page.$$eval('#expert-heatmap td', (tds) =>
      tds.map((td) => Number(td.getAttribute('data-tokens'))),
    );
    expect(cells).toHaveLength(8);
    expect(cells.reduce((a, b) => a + b, 0)).toBe(2 * 2 * (5 + 7));

    // Live: new traffic shows up without reloading.
    await client.completions.create({
      model: 'toy-alphabet',
      prompt: 'again',
      max_tokens: 4,
      temperature: 0,
    });
    await expect
      .poll(async () => Number(await page.textContent('#tile-tokens')), { timeout: 10_000 })
      .toBe(12);
    await expect
      .poll(() => page.$$eval('#chart-throughput polyline', (lines) => lines.length), { timeout: 10_000 })
      .toBe(1);
    await expect
      .poll(() => page.$$eval('#expert-timeline rect', (rects) => rects.length), { timeout: 10_000 })
      .toBeGreaterThan(0);
    expect(await page.textContent('#deployment')).toContain('no deployment plan');
    expect(consoleErrors).toEqual([]);
  });

  it('shows an authentication error without a key', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/dashboard`);
    await expect.poll(() => page.textContent('#status'), { timeout: 10_000 }).toMatch(/API key/);
  });
});
