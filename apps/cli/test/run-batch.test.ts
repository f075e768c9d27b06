import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RandomSource } from '@switchyard/core';
import { createRandom, delay, randomInteger } from '@switchyard/core';
import { cliEntry, repoRoot, runCli, spawnSource } from '@switchyard/testing/cli';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `switchyard run-batch` as a user runs it: a real CLI process on the tiny bundled Mixtral, killed with
 * SIGKILL at seeded random points and started again with the same output until the job is done.
 */

const work = mkdtempSync(join(tmpdir(), 'switchyard-run-batch-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const model = join(repoRoot, 'fixtures/checkpoints/tiny-mixtral');

interface OutputLine {
  custom_id: string | null;
  response: { status_code: number; body: { choices?: unknown; usage?: unknown } } | null;
  error: { code: string; line?: number } | null;
}

/** ~30 completions of 4–120 prompt bytes, greedy, plus a malformed line, a duplicate and a bad url. */
function writeInput(path: string): string[] {
  const random = createRandom(2020);
  const ids: string[] = [];
  const lines: string[] = [];
  for (let i = 0; i < 30; i++) {
    const length = between(random, 4, 120);
    const prompt = Array.from({ length }, () => String.fromCharCode(between(random, 97, 122))).join('');
    ids.push(`job-${i}`);
    lines.push(
      JSON.stringify({
        custom_id: `job-${i}`,
        method: 'POST',
        url: '/v1/completions',
        body: { prompt, max_tokens: between(random, 2, 24), temperature: 0 },
      }),
    );
  }
  lines.splice(7, 0, '{"custom_id": "half');
  lines.push(JSON.stringify({ custom_id: 'job-3', method: 'POST', url: '/v1/completions', body: {} }));
  lines.push(JSON.stringify({ custom_id: 'emb', method: 'POST', url: '/v1/embeddings', body: {} }));
  writeFileSync(path, `${lines.join('\n')}\n`);
  return ids;
}

const readOutput = (path: string): OutputLine[] =>
  existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as OutputLine)
    : [];

/** Uniform integer in [low, high]. */
const between = (random: RandomSource, low: number, high: number) =>
  low + randomInteger(random, high - low + 1);

const lineCount = (path: string): number =>
  existsSync(path) ? readFileSync(path, 'utf8').split('\n').length - 1 : 0;

/** Everything but ids and timestamps, keyed the way a resume keys lines. */
function comparable(lines: OutputLine[]): Map<string, unknown> {
  return new Map(
    lines.map((line) => [
      line.error?.line === undefined ? line.custom_id! : `line:${line.error.line}`,
      {
        status: line.response?.status_code,
        choices: line.response?.body.choices,
        usage: line.response?.body.usage,
        error: line.error?.code,
      },
    ]),
  );
}

const batchArgs = (input: string, output: string) => [
  'run-batch',
  model,
  '-i',
  input,
  '-o',
  output,
  '--concurrency',
  '3',
  '--max-batch-tokens',
  '96',
  '--json',
];

describe('switchyard run-batch', () => {
  const input = join(work, 'requests.jsonl');
  const ids = writeInput(input);

  it('killed with SIGKILL at random points and restarted, answers every custom_id once, as an uninterrupted run', async () => {
    const reference = join(work, 'reference.jsonl');
    const whole = await runCli(batchArgs(input, reference), { timeoutMs: 120_000 });
    expect(whole.stderr).toBe('');
    expect(whole.code).toBe(0);
    const summary = JSON.parse(whole.stdout) as { requests: number; succeeded: number; failed: number };
    expect(summary).toMatchObject({ requests: 33, succeeded: 30, failed: 3 });

    const output = join(work, 'killed.jsonl');
    const random = createRandom(20);
    let kills = 0;
    for (let attempt = 0; attempt < 12 && kills < 6; attempt++) {
      const before = lineCount(output);
      const target = before + between(random, 1, 4);
      const child = spawnSource(cliEntry, batchArgs(input, output));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      let done = false;
      void exited.then(() => {
        done = true;
      });
      while (!done && lineCount(output) < target) await delay(5);
      // Somewhere between two lines, not always right after one.
      await delay(between(random, 0, 25));
      if (!done) {
        child.kill('SIGKILL');
        kills += 1;
      }
      await exited;
      if (done && lineCount(output) >= 33) break;
    }
    expect(kills).toBeGreaterThanOrEqual(5);
    const resumed = await runCli(batchArgs(input, output), { timeoutMs: 120_000 });
    expect(resumed.code).toBe(0);
    const lines = readOutput(output);
    const answered = lines.filter((line) => line.error?.line === undefined).map((line) => line.custom_id);
    for (const id of ids) expect(answered.filter((answer) => answer === id)).toEqual([id]);
    expect(lines).toHaveLength(33);
    expect(comparable(lines)).toEqual(comparable(readOutput(reference)));
    const state = JSON.parse(readFileSync(`${output}.state.json`, 'utf8')) as {
      runs: number;
      finished: boolean;
    };
    expect(state.finished).toBe(true);
    expect(state.runs).toBeGreaterThanOrEqual(kills + 1);
  }, 600_000);
});
