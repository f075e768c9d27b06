import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delay } from '@switchyard/core';
import OpenAI, { toFile } from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { createBatchScheduler } from '../src/batch-scheduler.js';
import { type RunningServer, startServer } from '../src/http/http-server.js';
import { byteTokenizer } from './byte-tokenizer.js';
import { ToyBackend } from './toy-backend.js';

/**
 * OpenAI's Batch API on the server, driven by the official `openai` client: upload, create, poll,
 * download; and a batch that is in progress when the server stops resumes when it starts again on the
 * same data directory (SQLite state and the batch's output).
 */

const tokenizer = await byteTokenizer();
const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-batch-api-'));
const requests = Array.from({ length: 24 }, (_, i) =>
  JSON.stringify({
    custom_id: `q${i}`,
    method: 'POST',
    url: '/v1/completions',
    body: { prompt: 'abcdefghij'.slice(0, 1 + (i % 10)), max_tokens: 4 + (i % 5), temperature: 0 },
  }),
);
const input = `${requests.join('\n')}\n{"custom_id": "broken"\n`;

interface Running {
  server: RunningServer;
  client: OpenAI;
  close(): Promise<void>;
}

async function start(stepDelayMs: number): Promise<Running> {
  const engine = createBatchScheduler(
    new ToyBackend({ stepDelayMs }),
    { maxBatchSize: 8, seed: 1 },
    { tokenizer },
  );
  const server = await startServer({ engine }, { port: 0, dataDir, batchConcurrency: 2 });
  const client = new OpenAI({ apiKey: 'unused', baseURL: `${server.url}/v1`, maxRetries: 0 });
  return {
    server,
    client,
    async close() {
      await server.close();
      await engine.close();
    },
  };
}

async function waitFor<T>(
  poll: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await poll();
    if (done(value) || Date.now() > deadline) return value;
    await delay(50);
  }
}

const outputLines = async (client: OpenAI, fileId: string) =>
  (await (await client.files.content(fileId)).text())
    .trim()
    .split('\n')
    .map(
      (line) =>
        JSON.parse(line) as { custom_id: string; response: { body: { choices: { text: string }[] } } },
    );

describe('the Batch API', () => {
  const running: Running[] = [];
  afterAll(async () => {
    for (const server of running) await server.close();
  });

  it('runs a batch uploaded and read back with the official openai client', async () => {
    const server = await start(0);
    running.push(server);
    const { client } = server;
    const file = await client.files.create({
      file: await toFile(Buffer.from(input), 'in.jsonl'),
      purpose: 'batch',
    });
    expect(file).toMatchObject({ object: 'file', purpose: 'batch', bytes: Buffer.byteLength(input) });
    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/completions',
      completion_window: '24h',
      metadata: { job: 'test' },
    });
    expect(created.object).toBe('batch');
    const batch = await waitFor(
      () => client.batches.retrieve(created.id),
      (value) => value.status === 'completed',
    );
    expect(batch.status).toBe('completed');
    expect(batch.request_counts).toEqual({ total: 25, completed: 24, failed: 1 });
    const lines = await outputLines(client, batch.output_file_id!);
    expect(lines.map((line) => line.custom_id).sort()).toEqual(requests.map((_, i) => `q${i}`).sort());
    // The toy model continues the alphabet: "abc" → "defg…".
    const q2 = lines.find((line) => line.custom_id === 'q2')!;
    expect(q2.response.body.choices[0]!.text).toBe('defghij'.slice(0, 6));
    const errors = (await (await client.files.content(batch.error_file_id!)).text()).trim().split('\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('invalid_json');
    const list = await client.batches.list();
    expect(list.data.map((entry) => entry.id)).toContain(created.id);
    await expect(client.batches.retrieve('batch-nope')).rejects.toMatchObject({ status: 404 });
    await expect(
      client.batches.create({
        input_file_id: 'file-nope',
        endpoint: '/v1/completions',
        completion_window: '24h',
      }),
    ).rejects.toMatchObject({ status: 404 });
    await server.close();
    running.pop();
  });

  it('resumes an in-progress batch after a restart and answers every line once', async () => {
    const first = await start(30);
    running.push(first);
    const file = await first.client.files.create({
      file: await toFile(Buffer.from(input), 'in.jsonl'),
      purpose: 'batch',
    });
    const created = await first.client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/completions',
      completion_window: '24h',
    });
    await waitFor(
      () => first.client.batches.retrieve(created.id),
      (value) => value.request_counts!.completed >= 4,
    );
    await first.close();
    running.pop();
    const second = await start(0);
    running.push(second);
    const before = await second.client.batches.retrieve(created.id);
    expect(['in_progress', 'completed']).toContain(before.status);
    expect(before.request_counts!.completed).toBeLessThan(24);
    const batch = await waitFor(
      () => second.client.batches.retrieve(created.id),
      (value) => value.status === 'completed',
    );
    expect(batch.status).toBe('completed');
    const lines = await outputLines(second.client, batch.output_file_id!);
    const ids = lines.map((line) => line.custom_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(requests.map((_, i) => `q${i}`).sort());
  });
});
