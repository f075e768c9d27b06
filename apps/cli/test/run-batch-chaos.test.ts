import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBatchAcceptance } from '../src/bench/batch-acceptance.js';
import { writeBundledModelPlan } from './sample-plan.js';

/**
 * Chaos: a `--target local` batch job while the embedded runtime SIGKILLs expert-function instance
 * processes mid-invocation and fails 5 % of invocations (its seeded fault injection). The job must end
 * as the clean in-process run of the same job, line by line, with the failures retried, counted in the
 * summary, and billed (the REPORT lines of failed invocations included).
 */

const work = mkdtempSync(join(tmpdir(), 'switchyard-batch-chaos-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('run-batch under chaos', () => {
  it('completes with outputs identical to the clean run while instances are killed and 5 % of invocations fail', async () => {
    const planPath = await writeBundledModelPlan(work);

    const result = await runBatchAcceptance({
      workDir: work,
      job: { lines: 24, seed: 5, maxPromptBytes: 120, maxMaxTokens: 8 },
      planPath,
      runBatchArgs: ['--max-batch-tokens', '512', '--concurrency', '6'],
      runtime: { faults: { seed: 11, failRate: 0.05, killRate: 0.03 } },
      timeoutMs: 300_000,
    });

    expect(result.inProcess).toMatchObject({ requests: 24, succeeded: 24, failed: 0 });
    expect(result.local).toMatchObject({ requests: 24, succeeded: 24, failed: 0 });
    expect(result.differingLines).toEqual([]);
    // Faults happened, every one was seen by the runtime's REPORT lines and counted by the job.
    expect(result.reports.failedLines).toBeGreaterThan(0);
    expect(result.local.failedInvocations).toBe(result.reports.failedLines);
    expect(result.local.retries).toBeGreaterThan(0);
    expect(result.local.retries).toBeLessThanOrEqual(result.local.failedInvocations);
    // Failed invocations are billed like the rest: the bill is still exactly the REPORT lines.
    expect(result.local.invocations).toBe(result.reports.lines);
    expect(result.local.billedGbSeconds).toBeCloseTo(result.reports.gbSeconds, 9);
  }, 600_000);
});
