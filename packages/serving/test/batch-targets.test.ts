import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRandom, randomInteger } from '@switchyard/core';
import { type LocalRuntime, startLocalRuntime } from '@switchyard/lambda-local';
import { loadModel } from '@switchyard/model';
import { createDefaultPlan } from '@switchyard/scatter-gather';
import { type ReportTap, startReportTap } from '@switchyard/testing/report-tap';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchOutputLine } from '../src/batch/batch-line.js';
import { type BatchSummary, runBatchJob } from '../src/batch/run-batch.js';
import { createLineDispatcher } from '../src/http/line-dispatch.js';
import { type ServingOptions, startServing } from '../src/index.js';

/**
 * The same batch job with experts in process and on the embedded Lambda runtime: greedy outputs equal
 * line by line, and the job's billed GB-s is what the runtime's REPORT lines add up to (read off the
 * wire by a proxy between the executor and the runtime, not from Switchyard's own bill).
 */

const modelDir = fileURLToPath(new URL('../../../fixtures/checkpoints/tiny-mixtral', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'switchyard-batch-targets-'));
const inputPath = join(work, 'requests.jsonl');

function writeJob(): void {
  const random = createRandom(7);
  const lines = Array.from({ length: 16 }, (_, i) => {
    const length = 3 + randomInteger(random, 90);
    const prompt = Array.from({ length }, () => String.fromCharCode(97 + randomInteger(random, 26))).join('');
    return JSON.stringify({
      custom_id: `r${i}`,
      method: 'POST',
      url: '/v1/completions',
      body: {
        prompt,
        max_tokens: 2 + randomInteger(random, 14),
        temperature: 0,
        n: 1 + (i % 3 === 0 ? 1 : 0),
      },
    });
  });
  writeFileSync(inputPath, `${lines.join('\n')}\n`);
}

const readLines = (path: string): BatchOutputLine[] =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as BatchOutputLine);

const comparable = (lines: BatchOutputLine[]) =>
  new Map(
    lines.map((line) => {
      const body = line.response?.body as { choices?: unknown; usage?: unknown };
      return [
        line.custom_id,
        { status: line.response?.status_code, choices: body.choices, usage: body.usage },
      ];
    }),
  );

async function runJob(outputPath: string, serving: Omit<ServingOptions, 'modelDir'>): Promise<BatchSummary> {
  const stack = await startServing({
    modelDir,
    maxBatchSize: 32,
    maxBatchTokens: 128,
    seed: 1,
    adaptation: false,
    ...serving,
  });
  try {
    return await runBatchJob(
      { inputPath, outputPath, concurrency: 8, cost: true },
      {
        dispatcher: createLineDispatcher({ engine: stack.engine, status: stack.status }),
        engine: stack.engine,
        billing: stack.status.billing,
      },
    );
  } finally {
    await stack.close();
  }
}

describe('a batch job on in-process and local experts', () => {
  let runtime: LocalRuntime;
  let tap: ReportTap;
  let planPath: string;

  beforeAll(async () => {
    writeJob();
    const model = await loadModel(modelDir);
    // One function per layer holding all its experts: two cold starts.
    const plan = createDefaultPlan(model.summary, { expertsPerFunction: 8, memoryMB: 1024 });
    await model.close();
    planPath = join(work, 'plan.json');
    writeFileSync(planPath, JSON.stringify(plan));
    runtime = await startLocalRuntime({ initTimeoutMs: 120_000 });
    tap = await startReportTap(runtime.endpoint);
  }, 180_000);

  afterAll(async () => {
    await tap?.close();
    await runtime?.stop();
  });

  it('gives equal greedy outputs line by line, and bills exactly the REPORT lines', async () => {
    const inProcessPath = join(work, 'in-process.jsonl');
    const inProcess = await runJob(inProcessPath, {});
    expect(inProcess).toMatchObject({ requests: 16, succeeded: 16, billedGbSeconds: 0, invocations: 0 });

    const localPath = join(work, 'local.jsonl');
    const local = await runJob(localPath, { target: 'local', endpoint: tap.url, planPath });
    expect(local).toMatchObject({ requests: 16, succeeded: 16 });
    expect(comparable(readLines(localPath))).toEqual(comparable(readLines(inProcessPath)));

    expect(tap.reports()).toBeGreaterThan(0);
    expect(local.invocations).toBe(tap.reports());
    expect(local.billedGbSeconds).toBeCloseTo(tap.gbSeconds(), 9);
    // The lines' shares and what no line caused (the startup probe) make up the whole bill.
    const attributed = readLines(localPath).reduce((sum, line) => sum + line.cost!.billed_gb_seconds, 0);
    expect(attributed).toBeGreaterThan(0);
    expect(attributed + local.unattributedGbSeconds).toBeLessThanOrEqual(local.billedGbSeconds + 1e-9);
    expect(local.usdPerMillionTokens).toBeGreaterThan(0);
  }, 300_000);
});
