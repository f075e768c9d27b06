import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fitComputeProfile } from '@switchyard/cost-model';
import { afterAll, describe, expect, it } from 'vitest';
import { runPaperBench, switchBaseCounts } from './paper-bench.js';

const fixturesDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../fixtures');
const outDir = mkdtempSync(join(tmpdir(), 'paper-bench-test-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

const compute = fitComputeProfile(
  [
    { threads: 1, tokens: 100, durationMs: 7 },
    { threads: 1, tokens: 1000, durationMs: 52 },
    { threads: 2, tokens: 100, durationMs: 4.5 },
    { threads: 2, tokens: 1000, durationMs: 31.5 },
  ],
  {
    subject: { model: 'tiny', hiddenSize: 768, intermediateSize: 3072, experts: 'test' },
    machine: { description: 'test', logicalCpus: 2 },
    createdAt: '2026-11-28T00:00:00Z',
  },
);

describe('runPaperBench', () => {
  it('reads the bundled switch-base-128 counts', () => {
    const counts = switchBaseCounts(fixturesDir);
    expect(counts.length).toBe(6);
    expect(counts[0]!.length).toBe(128);
  });

  it('writes paper.json and paper.md with one entry per shape', async () => {
    const result = await runPaperBench({
      fixturesDir,
      outDir,
      shapes: ['bert-moe-12x4'],
      compute,
      validation: false,
      // The quantized rows profile three expert formats and evaluate the bundled model: the bench's job.
      quantized: false,
      tokensPerBatch: 2048,
      maxEvaluations: 6,
    });
    expect(result.models.map((m) => m.model)).toEqual(['paper:bert-moe-12x4']);
    expect(result.validation).toBeNull();
    const json = JSON.parse(readFileSync(join(outDir, 'paper.json'), 'utf8'));
    const rows = json.models[0].rows;
    for (const key of ['switchyard', 'paper', 'lambdaml', 'cpuCluster'])
      for (const field of ['costUsdPerMillionTokens', 'throughputTokensPerS', 'latencyMs', 'sloMet'])
        expect(rows[key]).toHaveProperty(field);
    const markdown = readFileSync(join(outDir, 'paper.md'), 'utf8');
    expect(markdown).toContain('## Assumptions');
    expect(markdown).toContain('Poisson');
  });
});
