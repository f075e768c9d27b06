import { appendFileSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRandom } from '@switchyard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byteTokenizer } from '../../test/byte-tokenizer.js';
import { ToyBackend } from '../../test/toy-backend.js';
import { createBatchScheduler } from '../batch-scheduler.js';
import type { Engine } from '../engine.js';
import { createLineDispatcher } from '../http/line-dispatch.js';
import type { BillingTotals } from '../status.js';
import type { BatchOutputLine } from './batch-line.js';
import { readJobState } from './batch-state.js';
import { runBatchJob } from './run-batch.js';

const tokenizer = await byteTokenizer();

/** A toy backend whose every step "bills" 0.5 GB-s per fed token and one invocation per MoE layer. */
class BilledToyBackend extends ToyBackend {
  readonly bill: BillingTotals = {
    billedGbSeconds: 0,
    costUsd: 0,
    invocations: 0,
    retries: 0,
    failedInvocations: 0,
  };
  readonly stepTokens: number[] = [];
  override async step(batch: Parameters<ToyBackend['step']>[0]) {
    const tokens = batch.reduce((sum, entry) => sum + entry.tokenIds.length, 0);
    this.stepTokens.push(tokens);
    this.bill.billedGbSeconds += tokens * 0.5;
    this.bill.costUsd += tokens * 0.5 * 1.6667e-5;
    this.bill.invocations += 2;
    return super.step(batch);
  }
}

/** 30 completions of random lengths plus every kind of bad line. */
function jobInput(): { text: string; validIds: string[] } {
  const random = createRandom(20);
  const lines: string[] = [];
  const validIds: string[] = [];
  for (let i = 0; i < 30; i++) {
    const length = 1 + Math.floor(random() * 60);
    const prompt = Array.from({ length }, () => String.fromCharCode(97 + Math.floor(random() * 26))).join('');
    const id = `req-${i}`;
    validIds.push(id);
    lines.push(
      JSON.stringify({
        custom_id: id,
        method: 'POST',
        url: '/v1/completions',
        body: { prompt, max_tokens: 1 + Math.floor(random() * 12), temperature: 0 },
      }),
    );
  }
  lines.splice(3, 0, '{"custom_id": "torn', '');
  lines.push(JSON.stringify({ custom_id: 'req-1', method: 'POST', url: '/v1/completions', body: {} }));
  lines.push(JSON.stringify({ custom_id: 'emb', method: 'POST', url: '/v1/embeddings', body: {} }));
  lines.push(
    JSON.stringify({ custom_id: 'bad-body', method: 'POST', url: '/v1/completions', body: { prompt: 5 } }),
  );
  lines.push(
    JSON.stringify({
      custom_id: 'no-template',
      method: 'POST',
      url: '/v1/chat/completions',
      body: { messages: [{ role: 'user', content: 'hi' }] },
    }),
  );
  return { text: `${lines.join('\n')}\n`, validIds };
}

const readLines = (path: string): BatchOutputLine[] =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as BatchOutputLine);

/** What must not change between runs: everything but ids and timestamps. */
const comparable = (line: BatchOutputLine) => {
  const body = line.response?.body as { choices?: unknown; usage?: unknown; error?: unknown } | undefined;
  return {
    custom_id: line.custom_id,
    status: line.response?.status_code,
    choices: body?.choices,
    usage: body?.usage,
    error: line.error,
  };
};

describe('runBatchJob', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-batch-'));
  const inputPath = join(dir, 'input.jsonl');
  const { text, validIds } = jobInput();
  let backend: BilledToyBackend;
  let engine: Engine;
  const maxBatchTokens = 48;

  beforeAll(() => {
    writeFileSync(inputPath, text);
    backend = new BilledToyBackend();
    engine = createBatchScheduler(backend, { maxBatchSize: 16, maxBatchTokens, seed: 1 }, { tokenizer });
  });
  afterAll(() => engine.close());

  const run = (outputPath: string, cost = true) =>
    runBatchJob(
      { inputPath, outputPath, concurrency: 12, cost, settings: { model: 'toy' } },
      {
        dispatcher: createLineDispatcher({ engine }, { maxPromptTokens: 200, maxTokens: 64 }),
        engine,
        billing: () => ({ ...backend.bill }),
      },
    );

  it('answers every line once, bad lines as error lines, packing steps up to max batch tokens', async () => {
    const outputPath = join(dir, 'whole.jsonl');
    const billBefore = backend.bill.billedGbSeconds;
    const summary = await run(outputPath);
    const lines = readLines(outputPath);
    expect(lines).toHaveLength(35);
    expect(summary).toMatchObject({ requests: 35, succeeded: 30, failed: 5, resumed: 0, runs: 1 });
    const byKey = new Map(
      lines.map((line) => [line.error?.line ? `line:${line.error.line}` : line.custom_id, line]),
    );
    for (const id of validIds) {
      const line = byKey.get(id)!;
      expect(line.error).toBeNull();
      expect(line.response?.status_code).toBe(200);
      const body = line.response!.body as { object: string; usage: { prompt_tokens: number } };
      expect(body.object).toBe('text_completion');
      expect(body.usage.prompt_tokens).toBeGreaterThan(0);
      expect(line.cost!.billed_gb_seconds).toBeGreaterThan(0);
    }
    expect(byKey.get('line:4')?.error?.code).toBe('invalid_json');
    expect(lines.find((line) => line.error?.code === 'duplicate_custom_id')?.custom_id).toBe('req-1');
    expect(byKey.get('emb')?.error?.code).toBe('invalid_url');
    expect(byKey.get('bad-body')?.response?.status_code).toBe(400);
    expect(byKey.get('bad-body')?.error?.message).toContain("'prompt'");
    expect(byKey.get('no-template')?.response?.status_code).toBe(400);
    // Packed: no step fed more than the budget, and steps did share sequences.
    expect(Math.max(...backend.stepTokens)).toBeLessThanOrEqual(maxBatchTokens);
    expect(Math.max(...backend.batchSizes)).toBeGreaterThan(1);
    // Every billed GB-s of the job's steps is some request's: the lines add up to the job's bill.
    const attributed = lines.reduce((sum, line) => sum + (line.cost?.billed_gb_seconds ?? 0), 0);
    expect(attributed + summary.unattributedGbSeconds).toBeCloseTo(
      backend.bill.billedGbSeconds - billBefore,
      6,
    );
    expect(summary.unattributedGbSeconds).toBeCloseTo(0, 9);
    expect(summary.promptTokens + summary.completionTokens).toBe(summary.totalTokens);
    const state = readJobState(outputPath)!;
    expect(state).toMatchObject({ finished: true, runs: 1, progress: { written: 35, total: 35 } });
    expect(state.settings).toEqual({ model: 'toy' });
  });

  it('resumes after a kill: skips what was written, repairs a torn last line, and ends equal to a whole run', async () => {
    const reference = join(dir, 'reference.jsonl');
    await run(reference, false);
    const outputPath = join(dir, 'resumed.jsonl');
    await run(outputPath, false);
    // Keep 12 whole lines and half of the 13th: what a SIGKILL mid-append leaves.
    const whole = readFileSync(outputPath, 'utf8').split('\n');
    const kept = whole.slice(0, 12).join('\n').length + 1;
    truncateSync(outputPath, kept);
    appendFileSync(outputPath, whole[12]!.slice(0, 20));
    const summary = await run(outputPath, false);
    expect(summary).toMatchObject({ requests: 35, resumed: 12, runs: 2, succeeded: 30, failed: 5 });
    expect(summary.repairedBytes).toBe(20);
    const lines = readLines(outputPath);
    expect(lines).toHaveLength(35);
    const ids = lines.filter((line) => !line.error?.line).map((line) => line.custom_id);
    expect(new Set(ids).size).toBe(ids.length);
    const sorted = (list: BatchOutputLine[]) =>
      list.map(comparable).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(sorted(lines)).toEqual(sorted(readLines(reference)));
  });

  it('refuses to resume an output whose state names another input', async () => {
    const outputPath = join(dir, 'other.jsonl');
    await run(outputPath, false);
    const otherInput = join(dir, 'other-input.jsonl');
    writeFileSync(otherInput, `${text}\n${text.split('\n')[0]}\n`);
    await expect(
      runBatchJob({ inputPath: otherInput, outputPath }, { dispatcher: createLineDispatcher({ engine }) }),
    ).rejects.toThrow(/results of another input/);
  });
});
