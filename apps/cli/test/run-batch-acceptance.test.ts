import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBatchAcceptance } from '../src/bench/batch-acceptance.js';
import { writeBundledModelPlan } from './sample-plan.js';

/**
 * Issue #20's acceptance run at 40 lines (the 1,000-line one is `pnpm --filter @switchyard/cli
 * bench:batch-acceptance`): mixed completions and chat on the bundled model through the real CLI, in
 * process and on the embedded Lambda runtime.
 */

const work = mkdtempSync(join(tmpdir(), 'switchyard-batch-acceptance-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('run-batch acceptance (40 lines)', () => {
  it('answers completions and chat lines equally in process and on local functions, billing exactly the REPORT lines', async () => {
    const planPath = await writeBundledModelPlan(work);

    const result = await runBatchAcceptance({
      workDir: work,
      job: { lines: 40, maxPromptBytes: 160, maxMaxTokens: 8 },
      planPath,
      runBatchArgs: ['--max-batch-tokens', '1024', '--concurrency', '16'],
      timeoutMs: 300_000,
    });

    const lines = readFileSync(result.inputPath, 'utf8').trim().split('\n');
    const chatLines = lines.filter((line) => line.includes('/v1/chat/completions')).length;
    expect(chatLines).toBeGreaterThan(10);
    expect(lines.length - chatLines).toBeGreaterThan(10);
    // Every line, chat included (the bundled model has a chat template), answers 200 on both targets.
    expect(result.inProcess).toMatchObject({ requests: 40, succeeded: 40, failed: 0, billedGbSeconds: 0 });
    expect(result.local).toMatchObject({ requests: 40, succeeded: 40, failed: 0 });
    expect(result.outputLines).toEqual({ inProcess: 40, local: 40 });
    expect(result.differingLines).toEqual([]);
    expect(result.local.totalTokens).toBe(result.inProcess.totalTokens);

    expect(result.reports.lines).toBeGreaterThan(0);
    expect(result.local.invocations).toBe(result.reports.lines);
    expect(result.local.billedGbSeconds).toBeCloseTo(result.reports.gbSeconds, 9);
    expect(result.local.costUsd).toBeGreaterThan(0);
  }, 600_000);
});
