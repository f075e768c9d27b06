import { fitComputeProfile } from '@switchyard/cost-model';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { paperTargets, runPaperBenchmarkModel } from './paper-benchmark.js';
import { paperBenchmarkMarkdown } from './paper-benchmark-table.js';
import { erlangC, responseQuantileMs, slotsForSlo } from './queueing.js';

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
    // Whole m6a.32xlarge machines billed for wall time: machines × $/h ÷ 3,600 ÷ arrival rate.
    const cpu = result.rows.cpuCluster;
    expect(Number.isInteger(cpu.instances)).toBe(true);
    expect(cpu.instances).toBeGreaterThanOrEqual(1);
    expect(cpu.vcpus).toBe((cpu.instances ?? 0) * 128);
    expect(cpu.costUsdPerBatch).toBeCloseTo(((cpu.instances ?? 0) * 5.5296) / 3600 / 0.5, 12);
    expect(cpu.utilization).toBeGreaterThan(0);
    expect(cpu.utilization).toBeLessThanOrEqual(1);
    expect(cpu.responseQuantileMs).toBeLessThanOrEqual(result.sloMs);
    // Right-sized: the same slots without whole-machine rounding, never dearer.
    const { rightSized, breakEvenUtilization, claimUtilization } = result.cpuSensitivity;
    expect(rightSized.costUsdPerBatch).toBeLessThanOrEqual(cpu.costUsdPerBatch);
    expect(rightSized.vcpus).toBe((rightSized.slots ?? 0) * 4 * (rightSized.threadsPerExpert ?? 0));
    expect(claimUtilization).toBeCloseTo((1 - paperTargets.savingVsCpuCluster) * breakEvenUtilization, 12);
    // At its own utilisation the whole-machine cluster's saving is ≥ 75.67 % exactly when that
    // utilisation is at most claimUtilization (same configuration on both sides).
    expect(result.savingVsCpuCluster >= paperTargets.savingVsCpuCluster).toBe(
      (cpu.utilization ?? 0) <= claimUtilization + 1e-12,
    );
    expect(result.targetsMet.throughputLoss).toBe(
      result.throughputLossVsLambdaml <= paperTargets.maxThroughputLoss,
    );
    const markdown = paperBenchmarkMarkdown([result]);
    expect(markdown.split('\n').filter((line) => line.startsWith('| paper:bert-moe-12x4'))).toHaveLength(5);
  });

  it('prices the cluster at an overridden $/hour and counts 2 vCPUs per thread when asked', async () => {
    const base = {
      shape: 'bert-moe-12x4',
      sourceCounts: counts,
      compute,
      tokensPerBatch: 2048,
      maxEvaluations: 4,
    };
    const cheap = await runPaperBenchmarkModel({ ...base, cpuUsdPerHour: 1 });
    expect(cheap.rows.cpuCluster.costUsdPerBatch).toBeCloseTo(
      (cheap.rows.cpuCluster.instances ?? 0) / 3600 / 0.1,
      12,
    );
    const cores = await runPaperBenchmarkModel({ ...base, cpuVcpusPerThread: 2 });
    const r = cores.cpuSensitivity.rightSized;
    expect(r.vcpus).toBe((r.slots ?? 0) * 4 * (r.threadsPerExpert ?? 0) * 2);
  });

  it('rejects an unknown shape', async () => {
    await expect(
      runPaperBenchmarkModel({ shape: 'bert-moe-12x5', sourceCounts: counts, compute }),
    ).rejects.toThrow(/unknown paper shape/);
  });
});

describe('cluster queueing', () => {
  it('Erlang C: one server waits with probability ρ; more servers wait less (property, fixed seed)', () => {
    expect(erlangC(1, 0.3)).toBeCloseTo(0.3, 12);
    // Two servers, a = 1: C = a²/(2 − a) / (1 + a + a²/(2 − a)) = 1/3.
    expect(erlangC(2, 1)).toBeCloseTo(1 / 3, 12);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        (c, rho) => {
          const a = rho * c;
          const wait = erlangC(c, a);
          expect(wait).toBeGreaterThanOrEqual(0);
          expect(wait).toBeLessThanOrEqual(1);
          expect(erlangC(c + 1, a)).toBeLessThanOrEqual(wait + 1e-12);
        },
      ),
      { seed: 20261128, numRuns: 200 },
    );
  });

  it('sizes the fewest slots whose p95 response meets the SLO (property, fixed seed)', () => {
    expect(slotsForSlo(0.1, 30_000, 20_000, 0.95)).toBeUndefined();
    fc.assert(
      fc.property(
        fc.double({ min: 0.001, max: 2, noNaN: true }),
        fc.double({ min: 100, max: 60_000, noNaN: true }),
        fc.double({ min: 1.01, max: 3, noNaN: true }),
        (rate, serviceMs, factor) => {
          const slo = serviceMs * factor;
          const slots = slotsForSlo(rate, serviceMs, slo, 0.95)!;
          expect(responseQuantileMs(rate, serviceMs, slots, 0.95)).toBeLessThanOrEqual(slo);
          if (slots > 1) expect(responseQuantileMs(rate, serviceMs, slots - 1, 0.95)).toBeGreaterThan(slo);
        },
      ),
      { seed: 20261128, numRuns: 200 },
    );
  });
});
