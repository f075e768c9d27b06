import { launchChromium } from '@switchyard/testing/browser';
import { withServer } from '@switchyard/testing/server';
import OpenAI from 'openai';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatchScheduler } from '../src/batch-scheduler.js';
import { startServer } from '../src/http/http-server.js';
import { byteTokenizer } from './byte-tokenizer.js';
import { ToyBackend } from './toy-backend.js';

const tokenizer = await byteTokenizer();

const apiKey = 'dashboard-key-123456';

/** Fails (never skips) without Debian's chromium: the test command installs it. */
describe('dashboard in headless Chromium', () => {
  let browser: Browser;
  let closeBrowser: (() => Promise<void>) | undefined;
  let client: OpenAI;

  const server = withServer(async (listen) => {
    const engine = createBatchScheduler(
      new ToyBackend(),
      { batching: 'continuous', maxBatchSize: 8 },
      { tokenizer },
    );
    const running = await startServer({ engine }, { ...listen, apiKeys: [apiKey], historyIntervalMs: 200 });
    return {
      url: running.url,
      async close() {
        await running.close();
        await engine.close();
      },
    };
  });

  beforeAll(async () => {
    client = new OpenAI({ apiKey, baseURL: server.apiUrl, maxRetries: 0 });
    ({ browser, close: closeBrowser } = await launchChromium());
  });

  afterAll(async () => {
    await closeBrowser?.();
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
