import { fitComputeProfile } from '@switchyard/cost-model';
import { describe, expect, it } from 'vitest';
import { paperBenchmarkMarkdown, paperTargets, runPaperBenchmarkModel } from './paper-benchmark.js';

/** A tiny hand-made profile: 2 ms + 0.05 ms/token at 1 thread, 1.5 + 0.03 at 2. */
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
// Skewed real-looking counts: 2 source layers × 8 experts.
const counts = [
  [900, 50, 300, 20, 10, 400, 5, 100],
  [100, 700, 60, 30, 250, 15, 80, 5],
];

describe('runPaperBenchmarkModel', () => {
  it('builds the four rows on one SLO with consistent savings and the JSON shape', async () => {
    const result = await runPaperBenchmarkModel({
      shape: 'bert-moe-12x4',
      sourceCounts: counts,
      compute,
      tokensPerBatch: 2048,
      arrivalRatePerS: 0.5,
      maxEvaluations: 8,
      seed: 3,
    });
    expect(result.model).toBe('paper:bert-moe-12x4');
    expect(Object.keys(result.rows).sort()).toEqual(['cpuCluster', 'lambdaml', 'paper', 'switchyard']);
    for (const row of Object.values(result.rows)) {
      expect(row.costUsdPerBatch).toBeGreaterThan(0);
      expect(row.costUsdPerMillionTokens).toBeCloseTo((row.costUsdPerBatch / 2048) * 1e6, 9);
      expect(row.throughputTokensPerS).toBeGreaterThan(0);
      expect(row.latencyMs).toBeGreaterThan(0);
      expect(typeof row.sloMet).toBe('boolean');
      expect(row.sloMet).toBe(row.latencyMs <= result.sloMs);
    }
    // The SLO is derived from LambdaML's latency so that meeting it bounds the throughput loss.
    expect(result.sloMs).toBe(
      Math.ceil(result.rows.lambdaml.latencyMs / (1 - paperTargets.maxThroughputLoss)),
    );
    expect(result.savingVsLambdaml).toBeCloseTo(
      1 - result.rows.switchyard.costUsdPerBatch / result.rows.lambdaml.costUsdPerBatch,
      12,
    );
    const cpu = result.rows.cpuCluster;
    expect(cpu.utilization).toBeGreaterThan(0);
    expect(cpu.utilization).toBeLessThanOrEqual(0.8);
    // Billed for provisioned wall time: vCPUs × $/vCPU-s ÷ arrival rate.
    expect(cpu.vcpus).toBe((cpu.instances ?? 0) * 4 * (cpu.threadsPerExpert ?? 0) * 2);
    expect(result.targetsMet.throughputLoss).toBe(
      result.throughputLossVsLambdaml <= paperTargets.maxThroughputLoss,
    );
    const markdown = paperBenchmarkMarkdown([result]);
    expect(markdown.split('\n').filter((line) => line.startsWith('| paper:bert-moe-12x4'))).toHaveLength(4);
  });

  it('rejects an unknown shape', async () => {
    await expect(
      runPaperBenchmarkModel({ shape: 'bert-moe-12x5', sourceCounts: counts, compute }),
    ).rejects.toThrow(/unknown paper shape/);
  });
});
