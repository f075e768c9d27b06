import type { BillingReport, Executor } from '@switchyard/core';
import { resolveRates } from '@switchyard/cost-model';
import { describe, expect, it } from 'vitest';
import { recordBilling, sumBillingReports } from './billing.js';

const rates = resolveRates({ region: 'us-east-1', arch: 'x86_64' });

function report(memorySizeMB: number, billedDurationMs: number, initDurationMs?: number): BillingReport {
  return {
    requestId: `r-${memorySizeMB}-${billedDurationMs}`,
    durationMs: billedDurationMs - 0.5,
    billedDurationMs,
    memorySizeMB,
    maxMemoryUsedMB: 100,
    ...(initDurationMs === undefined ? {} : { initDurationMs }),
  };
}

describe('sumBillingReports', () => {
  it("reproduces AWS's pricing example (512 MB, 1 s each)", () => {
    const reports = Array.from({ length: 3000 }, () => report(512, 1000));
    const totals = sumBillingReports(reports, rates);
    // 3 M invocations × 1 s at 512 MB → 1.5 M GB-s → $25.00; here a thousandth of that.
    expect(totals.gbSeconds).toBeCloseTo(1500, 9);
    expect(totals.computeUsd).toBeCloseTo(0.025, 6);
    expect(totals.requestUsd).toBeCloseTo(0.0006, 9);
  });

  it('groups by memory size and counts cold starts', () => {
    const totals = sumBillingReports([report(1024, 10, 150), report(1024, 4), report(128, 2)], rates);
    expect(totals.invocations).toBe(3);
    expect(totals.coldStarts).toBe(1);
    expect(totals.billedDurationMs).toBe(16);
    expect(totals.byMemory).toEqual([
      { memoryMB: 128, invocations: 1, billedDurationMs: 2, gbSeconds: (128 / 1024) * 0.002 },
      { memoryMB: 1024, invocations: 2, billedDurationMs: 14, gbSeconds: 0.014 },
    ]);
  });
});

describe('recordBilling', () => {
  it('keeps the billing report of every invocation', async () => {
    let calls = 0;
    const inner: Executor = {
      invoke: async (request) => ({
        payload: request.payload,
        billing: report(256, ++calls),
        latencyMs: 1,
      }),
    };
    const recorder = recordBilling(inner);
    await recorder.invoke({ functionName: 'f', payload: new Uint8Array(1) });
    await recorder.invoke({ functionName: 'f', payload: new Uint8Array(1) });
    expect(recorder.reports.map((r) => r.billedDurationMs)).toEqual([1, 2]);
    recorder.reset();
    expect(recorder.reports).toHaveLength(0);
  });
});
