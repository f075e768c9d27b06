import type { BillingReport, Executor } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { recordBilling } from './record-billing.js';

function report(memorySizeMB: number, billedDurationMs: number): BillingReport {
  return {
    requestId: `r-${memorySizeMB}-${billedDurationMs}`,
    durationMs: billedDurationMs - 0.5,
    billedDurationMs,
    memorySizeMB,
    maxMemoryUsedMB: 100,
  };
}

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
