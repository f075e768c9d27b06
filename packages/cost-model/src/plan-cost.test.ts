import { describe, expect, it } from 'vitest';
import { flatComputeProfile, handTransport, makePlan } from '../test/fixtures.js';
import { planCost } from './plan-cost.js';
import { resolveRates } from './price-table.js';
import { erlangB } from './provisioned-concurrency.js';

const profile = { compute: flatComputeProfile, transport: handTransport };
const gbSecondUsd = 0.0000166667;
const requestUsd = 0.2e-6;
const putUsd = 0.005 / 1000;
const getUsd = 0.0004 / 1000;

describe('planCost (hand-computed)', () => {
  // 1,769 MB = 1 vCPU, so t_cal = 0.1 ms/token. Expert 0: 1000 tokens, 1 replica. Expert 1: 1001
  // tokens over 2 replicas (501 + 500).
  const plan = makePlan(
    [
      {
        method: 's3',
        beta: 64,
        functions: [
          [1769, 1, 1000],
          [1769, 2, 1001],
        ],
      },
    ],
    {
      tokensPerBatch: 1000,
      sloMs: 200,
    },
  );
  const report = planCost(plan, {}, profile);
  const layer = report.layers[0]!;

  it('prices each function from the paper’s method-2 time', () => {
    // Expert 0: 40 + 40 + 1000 × 1024/100,000 + 1000 × 0.1 = 190.24 ms → billed 191 ms.
    const fn0 = layer.functions[0]!;
    expect(fn0.latencyMs).toBeCloseTo(190.24, 9);
    expect(fn0.gbSeconds).toBeCloseTo((1769 / 1024) * 0.191, 12);
    expect(fn0.computeUsd).toBeCloseTo((1769 / 1024) * 0.191 * gbSecondUsd, 15);
    expect(fn0.requestUsd).toBeCloseTo(requestUsd, 15);
    // 2 PUTs (input, output) and 3 GETs (input, output, parameters).
    expect(fn0.s3Usd).toBeCloseTo(2 * putUsd + 3 * getUsd, 15);
    // Expert 1: 501 tokens → 40 + 40 + 5.13024 + 50.1 = 135.23024 ms → 136; 500 tokens → 135.12 → 136.
    const fn1 = layer.functions[1]!;
    expect(fn1.maxReplicaTokens).toBe(501);
    expect(fn1.latencyMs).toBeCloseTo(135.23024, 9);
    expect(fn1.invocations).toBe(2);
    expect(fn1.gbSeconds).toBeCloseTo((1769 / 1024) * 0.272, 12);
  });

  it('sums layers, attributes to experts and derives $/M tokens, latency and throughput', () => {
    expect(layer.latencyMs).toBeCloseTo(190.24, 9);
    expect(report.latencyMs).toBeCloseTo(190.24, 9);
    expect(report.gbSecondsPerBatch).toBeCloseTo((1769 / 1024) * (0.191 + 0.272), 12);
    const total = report.computeUsd + report.requestUsd + report.storageUsd + report.s3Usd;
    expect(report.costUsdPerBatch).toBeCloseTo(total, 15);
    expect(report.requestUsd).toBeCloseTo(3 * requestUsd, 15);
    expect(report.costUsdPerMillionTokens).toBeCloseTo((report.costUsdPerBatch / 1000) * 1e6, 9);
    expect(report.throughputTokensPerS).toBeCloseTo(1000 / 0.19024, 6);
    expect(report.sloMet).toBe(true);
    expect(layer.experts.map((e) => e.tokens)).toEqual([1000, 1001]);
    expect(layer.experts[1]!.gbSeconds).toBeCloseTo(layer.functions[1]!.gbSeconds, 12);
    expect(report.priceTable.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(report.storageUsd).toBe(0);
  });

  it('costs the plan on observed loads when given, and flags a missed SLO', () => {
    const observed = planCost(plan, { expertTokens: { 0: [3000, 10] }, sloMs: 100 }, profile);
    expect(observed.layers[0]!.experts.map((e) => e.tokens)).toEqual([3000, 10]);
    expect(observed.latencyMs).toBeGreaterThan(report.latencyMs);
    expect(observed.sloMet).toBe(false);
  });

  it('counts memory and payload violations', () => {
    const direct = makePlan([{ method: 'direct', beta: 64, functions: [[128, 1, 20_000]] }], {
      bytesPerExpert: 200 * 1024 * 1024,
    });
    const result = planCost(direct, {}, profile);
    expect(result.memoryViolations).toBe(1);
    // 20,000 × 512 B = 10 MB > 6 MB.
    expect(result.payloadViolations).toBe(1);
  });

  it('charges ephemeral storage above 512 MB', () => {
    const withStorage = planCost(plan, {}, { ...profile, ephemeralStorageMB: 1536 });
    expect(withStorage.storageUsd).toBeCloseTo(1 * (0.191 + 0.272) * 0.0000000309, 15);
  });

  it('pipelining trades one S3 access per mini-batch for overlapping the upload', () => {
    const run = (method: 's3' | 's3-pipelined', beta: number, storageAccessMs: number) =>
      planCost(
        makePlan([{ method, beta, functions: [[1769, 1, 4096]] }]),
        {},
        {
          ...profile,
          transport: { ...handTransport, storageAccessMs },
        },
      );
    // Cheap access (1 ms): 4 mini-batches of 1024 hide the upload, so pipelined is faster.
    expect(run('s3-pipelined', 1024, 1).latencyMs).toBeLessThan(run('s3', 1024, 1).latencyMs);
    // Slow access (20 ms) and 32 mini-batches: the extra accesses cost more than the overlap saves.
    expect(run('s3-pipelined', 128, 20).latencyMs).toBeGreaterThan(run('s3', 128, 20).latencyMs);
    // Pipelined pays 2 PUT + 2 GET per mini-batch.
    expect(run('s3-pipelined', 1024, 1).s3Usd).toBeGreaterThan(run('s3', 1024, 1).s3Usd);
  });
});

describe('planCost with provisioned concurrency', () => {
  // The hand plan's expert 0: one replica, 191 ms billed at 1,769 MB per batch; expert 1: two replicas.
  const onDemand = makePlan(
    [
      {
        method: 's3',
        beta: 64,
        functions: [
          [1769, 1, 1000],
          [1769, 2, 1001],
        ],
      },
    ],
    { tokensPerBatch: 1000, sloMs: 200 },
  );
  const withProvisioned = structuredClone(onDemand);
  withProvisioned.layers[0]!.functions[0]!.provisionedConcurrency = 2;
  const rates = resolveRates();
  const provisioned = rates.provisioned!;

  it('prices the configured instances per batch at the arrival rate and the served share at the lower duration price', () => {
    const arrivalRatePerS = 8;
    const base = planCost(onDemand, { arrivalRatePerS }, profile);
    const report = planCost(withProvisioned, { arrivalRatePerS }, profile);
    const fn0 = report.layers[0]!.functions[0]!;
    const gb = 1769 / 1024;
    // 8 batches/s × 0.191 s = 1.528 Erlangs on 2 instances.
    const spill = erlangB(2, arrivalRatePerS * 0.191);
    expect(fn0.provisionedConcurrency).toBe(2);
    expect(fn0.provisionedUsd).toBeCloseTo(
      (2 * gb * provisioned.concurrencyUsdPerGbSecond) / arrivalRatePerS,
      15,
    );
    expect(fn0.provisionedUsdPerHour).toBeCloseTo(2 * gb * provisioned.concurrencyUsdPerGbSecond * 3600, 12);
    expect(fn0.computeUsd).toBeCloseTo(
      gb * 0.191 * ((1 - spill) * provisioned.durationUsdPerGbSecond + spill * gbSecondUsd),
      15,
    );
    // Expert 1 stays on demand; the plan's total is its parts.
    expect(report.layers[0]!.functions[1]).toEqual(base.layers[0]!.functions[1]);
    expect(report.provisionedUsd).toBeCloseTo(fn0.provisionedUsd, 15);
    const parts =
      report.computeUsd + report.requestUsd + report.storageUsd + report.s3Usd + report.provisionedUsd;
    expect(report.costUsdPerBatch).toBeCloseTo(parts, 15);
    expect(report.latencyMs).toBe(base.latencyMs);
  });

  it('costs more than on demand when the instances mostly idle, less when they are kept busy', () => {
    const idle = planCost(withProvisioned, { arrivalRatePerS: 0.5 }, profile);
    expect(idle.costUsdPerBatch).toBeGreaterThan(
      planCost(onDemand, { arrivalRatePerS: 0.5 }, profile).costUsdPerBatch,
    );
    const busy = planCost(withProvisioned, { arrivalRatePerS: 12 }, profile);
    expect(busy.costUsdPerBatch).toBeLessThan(
      planCost(onDemand, { arrivalRatePerS: 12 }, profile).costUsdPerBatch,
    );
  });

  it('needs an arrival rate to price a plan with provisioned concurrency', () => {
    expect(() => planCost(withProvisioned, {}, profile)).toThrow(/workload\.arrivalRatePerS/);
  });
});
