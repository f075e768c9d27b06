import type { BillingReport } from '@switchyard/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { billFromReports, RunningBill } from './bill-from-reports.js';
import { invocationUsd } from './lambda-cost.js';
import { resolveRates } from './price-table.js';

const rates = resolveRates({ region: 'us-east-1', arch: 'x86_64' });

function report(memorySizeMB: number, billedDurationMs: number, initDurationMs?: number): BillingReport {
  return {
    requestId: `r-${memorySizeMB}-${billedDurationMs}`,
    durationMs: billedDurationMs - 0.5,
    billedDurationMs,
    memorySizeMB,
    maxMemoryUsedMB: 100,
    initDurationMs,
  };
}

describe('billFromReports', () => {
  it("reproduces AWS's pricing example (512 MB, 1 s each)", () => {
    const reports = Array.from({ length: 3000 }, () => report(512, 1000));
    const totals = billFromReports(reports, rates);
    // 3 M invocations × 1 s at 512 MB → 1.5 M GB-s → $25.00; here a thousandth of that.
    expect(totals.gbSeconds).toBeCloseTo(1500, 9);
    expect(totals.computeUsd).toBeCloseTo(0.025, 6);
    expect(totals.requestUsd).toBeCloseTo(0.0006, 9);
  });

  it('groups by memory size and counts cold starts', () => {
    const totals = billFromReports([report(1024, 10, 150), report(1024, 4), report(128, 2)], rates);
    expect(totals.invocations).toBe(3);
    expect(totals.coldStarts).toBe(1);
    expect(totals.billedDurationMs).toBe(16);
    expect(totals.byMemory).toEqual([
      { memoryMB: 128, invocations: 1, billedDurationMs: 2, gbSeconds: (128 / 1024) * 0.002 },
      { memoryMB: 1024, invocations: 2, billedDurationMs: 14, gbSeconds: 0.014 },
    ]);
  });

  it('costs what pricing each invocation on its own costs', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ memoryMB: fc.integer({ min: 128, max: 10_240 }), billedMs: fc.nat(5000) }), {
          maxLength: 40,
        }),
        (calls) => {
          const totals = billFromReports(
            calls.map((call) => report(call.memoryMB, call.billedMs)),
            rates,
          );
          const each = calls.reduce(
            (sum, call) => sum + invocationUsd(call.memoryMB, call.billedMs, rates),
            0,
          );
          expect(totals.totalUsd).toBeCloseTo(each, 12);
          expect(totals.byMemory.reduce((sum, memory) => sum + memory.invocations, 0)).toBe(calls.length);
        },
      ),
      { seed: 23, numRuns: 200 },
    );
  });

  it('refuses a report it cannot bill, naming the field', () => {
    expect(() => billFromReports([report(1024, 3), report(1024, Number.NaN)], rates)).toThrow(
      /reports\[1\]\.billedDurationMs/,
    );
    expect(() => new RunningBill(rates).add(report(0, 3))).toThrow(/memorySizeMB/);
  });
});

describe('RunningBill', () => {
  it('gives the same totals line by line as over the whole list', () => {
    const reports = [report(256, 7, 90), report(1769, 12), report(256, 1)];
    const bill = new RunningBill(rates);
    for (const line of reports) bill.add(line);
    expect(bill.totals()).toEqual(billFromReports(reports, rates));
    // A snapshot does not change when more lines arrive.
    const before = bill.totals();
    bill.add(report(256, 5));
    expect(before.byMemory[0]!.invocations).toBe(2);
    expect(bill.totals().byMemory[0]!.invocations).toBe(3);
  });
});
