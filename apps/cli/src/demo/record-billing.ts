import type { BillingReport, Executor, InvokeRequest, InvokeResult } from '@switchyard/core';

/**
 * An executor that keeps every BillingReport the runtime returned, so a run's bill is summed
 * (cost-model's `billFromReports`), not simulated.
 */
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
    close: executor.close ? () => executor.close!() : undefined,
  };
}
