import {
  type BillingReport,
  decodeExpertMessage,
  type Executor,
  type InvokeRequest,
  type InvokeResult,
} from '@switchyard/core';
import { computeTimeAtThreadsMs, fitComputeProfile } from '@switchyard/cost-model';
import { describe, expect, it } from 'vitest';
import { InvocationCalibration } from './invocation-calibration.js';

const compute = fitComputeProfile(
  [
    { threads: 1, tokens: 100, durationMs: 0.2 },
    { threads: 1, tokens: 1000, durationMs: 1.1 },
  ],
  {
    subject: { model: 'tiny', hiddenSize: 128, intermediateSize: 256 },
    machine: { description: 'test', logicalCpus: 1 },
    createdAt: '2026-11-28T00:00:00Z',
  },
);

/**
 * An executor whose functions report what the local runtime's 'scale' emulation would: handler
 * time at one vCPU = compute + 1.5 ms + 20 ns per wire byte, stretched by 1,769/MB below 1,769 MB.
 */
function emulatingExecutor(memoryByFunction: Record<string, number>): Executor {
  return {
    async invoke(request: InvokeRequest): Promise<InvokeResult> {
      const message = decodeExpertMessage(request.payload);
      const tokens = message.tokenCounts.reduce((n, c) => n + c, 0);
      const memoryMB = memoryByFunction[request.functionName]!;
      const oneVcpuMs = computeTimeAtThreadsMs(compute, tokens, 1) + 1.5 + 20e-6 * 2 * tokens * 128 * 4;
      const durationMs = memoryMB < 1769 ? (oneVcpuMs * 1769) / memoryMB : oneVcpuMs;
      const billing: BillingReport = {
        requestId: 'r',
        durationMs,
        billedDurationMs: Math.ceil(durationMs),
        memorySizeMB: memoryMB,
        maxMemoryUsedMB: 100,
      };
      return { payload: new Uint8Array(), billing, latencyMs: durationMs };
    },
  };
}

describe('InvocationCalibration', () => {
  it('recovers fixed + per-byte overhead at one vCPU from functions at 256 and 1,769 MB', async () => {
    const executor = emulatingExecutor({ small: 256, full: 1769 });
    const calibration = new InvocationCalibration({
      executor,
      hiddenSize: 128,
      compute,
      tokenCounts: [24, 160, 640],
    });
    const functions = [
      { functionName: 'small', layer: 0, experts: [0, 1], memoryMB: 256 },
      { functionName: 'full', layer: 0, experts: [2], memoryMB: 1769 },
    ];
    await calibration.round(functions);
    await calibration.round(functions);
    expect(calibration.invocations).toBe(12);
    const fit = calibration.fit('test');
    expect(fit.fixedMs).toBeCloseTo(1.5, 6);
    expect(fit.perByteMs).toBeCloseTo(20e-6, 10);
    expect(fit.points).toHaveLength(6);
  });
});
