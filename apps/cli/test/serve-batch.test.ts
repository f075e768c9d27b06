import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRandom, delay, randomInteger } from '@switchyard/core';
import { type RunningProcess, repoRoot, startCli } from '@switchyard/testing/cli';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `switchyard serve --data-dir` killed with SIGKILL during a Batch API job and started again on the
 * same data directory: the batch resumes and every custom_id is answered once, as an uninterrupted batch.
 */

const work = mkdtempSync(join(tmpdir(), 'switchyard-serve-batch-'));
const model = join(repoRoot, 'fixtures/checkpoints/tiny-mixtral');
let serving: RunningProcess | undefined;
afterAll(async () => {
  await serving?.stop('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

interface Batch {
  id: string;
  status: string;
  output_file_id: string | null;
  request_counts: { total: number; completed: number; failed: number };
}

async function startServer(): Promise<string> {
  serving = startCli([
    'serve',
    model,
    '--port',
    '0',
    '--data-dir',
    join(work, 'data'),
    '--max-batch-size',
    '8',
  ]);
  await serving.waitForLine(/^ {2}experts run /);
  return /^serving \S+ on (http:\/\/\S+)/m.exec(serving.stdout)![1]!;
}

const json = async <T>(response: Response): Promise<T> => {
  expect(response.status).toBe(200);
  return (await response.json()) as T;
};

async function waitForBatch(url: string, id: string, done: (batch: Batch) => boolean): Promise<Batch> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const batch = await json<Batch>(await fetch(`${url}/v1/batches/${id}`));
    if (done(batch) || Date.now() > deadline) return batch;
    await delay(25);
  }
}

async function outputs(url: string, fileId: string): Promise<Map<string, unknown>> {
  const text = await (await fetch(`${url}/v1/files/${fileId}/content`)).text();
  const lines = text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { custom_id: string; response: { body: { choices: unknown } } });
  const ids = lines.map((line) => line.custom_id);
  expect(new Set(ids).size).toBe(ids.length);
  return new Map(lines.map((line) => [line.custom_id, line.response.body.choices]));
}

describe('the Batch API of switchyard serve', () => {
  it('survives a SIGKILL mid-batch: the restarted server resumes it and answers every line once', async () => {
    const random = createRandom(11);
    const lines = Array.from({ length: 100 }, (_, i) => {
      const prompt = Array.from({ length: 4 + randomInteger(random, 50) }, () =>
        String.fromCharCode(97 + randomInteger(random, 26)),
      ).join('');
      return JSON.stringify({
        custom_id: `k${i}`,
        method: 'POST',
        url: '/v1/completions',
        body: { prompt, max_tokens: 40 + randomInteger(random, 40), temperature: 0 },
      });
    });
    let url = await startServer();
    const form = new FormData();
    form.set('purpose', 'batch');
    form.set('file', new Blob([`${lines.join('\n')}\n`]), 'requests.jsonl');
    const file = await json<{ id: string }>(await fetch(`${url}/v1/files`, { method: 'POST', body: form }));
    const create = (inputFileId: string) =>
      fetch(`${url}/v1/batches`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          input_file_id: inputFileId,
          endpoint: '/v1/completions',
          completion_window: '24h',
        }),
      });
    const batch = await json<Batch>(await create(file.id));
    const atKill = await waitForBatch(url, batch.id, (value) => value.request_counts.completed >= 5);
    serving!.child.kill('SIGKILL');
    await serving!.exited;
    expect(atKill.status).toBe('in_progress');
    expect(atKill.request_counts.completed).toBeLessThan(100);

    url = await startServer();
    const resumed = await waitForBatch(url, batch.id, (value) => value.status === 'completed');
    expect(resumed.status).toBe('completed');
    expect(resumed.request_counts).toMatchObject({ total: 100, completed: 100, failed: 0 });
    const answered = await outputs(url, resumed.output_file_id!);
    expect([...answered.keys()].sort()).toEqual(lines.map((_, i) => `k${i}`).sort());

    // The same file again, uninterrupted: equal greedy outputs line by line.
    const again = await json<Batch>(await create(file.id));
    const whole = await waitForBatch(url, again.id, (value) => value.status === 'completed');
    expect(await outputs(url, whole.output_file_id!)).toEqual(answered);
    expect(await serving!.stop('SIGINT')).toBe(0);
  }, 300_000);
});
