import type { BillingReport, Executor, InvokeRequest, InvokeResult } from '@switchyard/core';
import type { LambdaRates } from '@switchyard/cost-model';
import { gbSecondsOf } from '@switchyard/cost-model/internal';

/** An executor that keeps every BillingReport the runtime returned, so a run's bill is summed, not simulated. */
export interface BillingRecorder extends Executor {
  readonly reports: readonly BillingReport[];
  /** Forgets the reports so far (e.g. after warm-up invocations that should not count). */
  reset(): void;
}

export function recordBilling(executor: Executor): BillingRecorder {
  const reports: BillingReport[] = [];
  return {
    reports,
    reset() {
      reports.length = 0;
    },
    async invoke(request: InvokeRequest): Promise<InvokeResult> {
      const result = await executor.invoke(request);
      reports.push(result.billing);
      return result;
    },
    ...(executor.close ? { close: () => executor.close!() } : {}),
  };
}

export interface BillTotals {
  invocations: number;
  coldStarts: number;
  billedDurationMs: number;
  gbSeconds: number;
  computeUsd: number;
  requestUsd: number;
  totalUsd: number;
  /** Per memory size: what the functions of that size were billed. */
  byMemory: Array<{ memoryMB: number; invocations: number; billedDurationMs: number; gbSeconds: number }>;
}

/**
 * Sums the REPORT lines the runtime returned: GB-s = Σ memory × billed duration (as reported, which
 * includes INIT on cold starts since Aug 2025), $ = GB-s × the first-tier duration rate + requests.
 */
export function sumBillingReports(reports: readonly BillingReport[], rates: LambdaRates): BillTotals {
  const byMemory = new Map<
    number,
    { memoryMB: number; invocations: number; billedDurationMs: number; gbSeconds: number }
  >();
  let billedDurationMs = 0;
  let gbSeconds = 0;
  let coldStarts = 0;
  for (const report of reports) {
    const gbs = gbSecondsOf(report.memorySizeMB, report.billedDurationMs);
    billedDurationMs += report.billedDurationMs;
    gbSeconds += gbs;
    if (report.initDurationMs !== undefined) coldStarts += 1;
    const entry = byMemory.get(report.memorySizeMB) ?? {
      memoryMB: report.memorySizeMB,
      invocations: 0,
      billedDurationMs: 0,
      gbSeconds: 0,
    };
    entry.invocations += 1;
    entry.billedDurationMs += report.billedDurationMs;
    entry.gbSeconds += gbs;
    byMemory.set(report.memorySizeMB, entry);
  }
  const computeUsd = gbSeconds * rates.usdPerGbSecond;
  const requestUsd = reports.length * rates.usdPerRequest;
  return {
    invocations: reports.length,
    coldStarts,
    billedDurationMs,
    gbSeconds,
    computeUsd,
    requestUsd,
    totalUsd: computeUsd + requestUsd,
    byMemory: [...byMemory.values()].sort((a, b) => a.memoryMB - b.memoryMB),
  };
}
