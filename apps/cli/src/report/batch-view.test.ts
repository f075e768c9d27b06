import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { batchReportData } from './batch-view.js';
import { type BatchStateInput, batchReportFromJob, batchSummarySchema } from './from-batch.js';
import { renderReport } from './render-report.js';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-batch-view-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A job's output: `answered` lines with usage and cost (line i costs (i + 1) µ$), then one error line. */
function writeOutput(answered: number): string {
  const lines = Array.from({ length: answered }, (_, i) =>
    JSON.stringify({
      id: `batch_req_${i}`,
      custom_id: `q${i}`,
      response: {
        status_code: 200,
        request_id: `cmpl-${i}`,
        body: { usage: { prompt_tokens: 10 + i, completion_tokens: 5, total_tokens: 15 + i } },
      },
      error: null,
      cost: { billed_gb_seconds: 0.01, invocations: 2, usd: (i + 1) * 1e-6 },
    }),
  );
  lines.push(
    JSON.stringify({
      id: 'batch_req_x',
      custom_id: 'bad',
      response: null,
      error: { code: 'invalid_json', message: 'x' },
    }),
  );
  const path = join(dir, `out-${answered}.jsonl`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const state: BatchStateInput = {
  settings: { target: 'local' },
  runs: 2,
  progress: { written: 41, total: 41 },
  bill: { billedGbSeconds: 0.5, costUsd: 0.00082, invocations: 80 },
  wallSeconds: 4,
  finished: true,
};

function marks(html: string, chart: string): number {
  const svg = new RegExp(`<svg data-chart="${chart}"[\\s\\S]*?</svg>`).exec(html)?.[0] ?? '';
  return (svg.match(/class="mark"/g) ?? []).length;
}

describe('the batch view', () => {
  it('reads the output and state file: tokens, tokens/s, bill, $/M tokens and each line’s cost', () => {
    const batch = batchReportFromJob(writeOutput(40), state);
    // 40 answered lines of 10 + i prompt and 5 completion tokens.
    expect(batch.promptTokens).toBe(40 * 10 + (39 * 40) / 2);
    expect(batch.completionTokens).toBe(200);
    expect(batch).toMatchObject({ requests: 41, succeeded: 40, failed: 1, target: 'local', runs: 2 });
    expect(batch.tokensPerSecond).toBeCloseTo((1180 + 200) / 4, 9);
    expect(batch.usdPerMillionTokens).toBeCloseTo((0.00082 / 1380) * 1e6, 9);
    expect(batch.lineCostsUsd).toHaveLength(40);

    const html = renderReport(batchReportData(batch, { generatedAt: 'now' }));
    // 40 evenly spread costs in 20 bins: every bin holds two lines.
    expect(marks(html, 'batch-line-costs')).toBe(20);
    expect(html).toContain('2 lines at');
    // p50 of 1…40 µ$ (nearest rank) is 20 µ$; max 40 µ$.
    expect(html).toContain('$0.00002</td>');
    expect(html).toContain('$0.00004</td>');
    expect(html).toContain('1,380');
    // The job is one bar (no baselines without a summary) and the plan's sections are left out.
    expect(marks(html, 'costs')).toBe(1);
    expect(html).not.toContain('data-chart="heatmap"');
    expect(html).not.toContain('data-empty="heatmap"');
    expect(html).toContain('No baselines');
  });

  it('takes the summary’s figures and baselines when given, and says when no line carries a cost', () => {
    const path = join(dir, 'plain.jsonl');
    writeFileSync(
      path,
      `${JSON.stringify({ id: 'a', custom_id: 'a', response: { status_code: 200, request_id: 'r', body: { usage: { prompt_tokens: 3, completion_tokens: 4 } } }, error: null })}\n`,
    );
    const summary = batchSummarySchema.parse({
      target: 'in-process',
      requests: 1,
      succeeded: 1,
      failed: 0,
      promptTokens: 3,
      completionTokens: 4,
      wallSeconds: 2,
      tokensPerSecond: 3.5,
      billedGbSeconds: 0,
      costUsd: 0,
      usdPerMillionTokens: 0,
      invocations: 0,
      runs: 1,
      finished: true,
      baselines: [
        {
          name: 'lambdaml',
          usd: 0.001,
          usdPerMillionTokens: 142.9,
          description: 'one 3,008 MB function per expert',
        },
        { name: 'cpu-vcpu-seconds', usd: 0.0001, usdPerMillionTokens: 14.29 },
      ],
    });
    const html = renderReport(
      batchReportData(batchReportFromJob(path, undefined, summary), { generatedAt: 'now' }),
    );
    expect(marks(html, 'costs')).toBe(3);
    expect(html).toContain('baseline lambdaml');
    expect(html).toContain('data-empty="batch-line-costs"');
    expect(html).not.toContain('No baselines');
  });

  it('names the line of an output that is not batch output', () => {
    const path = join(dir, 'broken.jsonl');
    writeFileSync(path, '{"custom_id":"a"}\nnot json\n');
    expect(() => batchReportFromJob(path, undefined)).toThrow(
      /broken\.jsonl:2 is not a JSON batch output line/,
    );
  });
});
