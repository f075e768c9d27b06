import type { BillingReport } from '@switchyard/core';
import { invalidField } from './errors.js';
import { gbSecondsOf } from './lambda-cost.js';
import type { LambdaRates } from './price-table.js';

/** What a bill needs of one REPORT line: the function's memory, its billed duration, INIT on a cold start. */
export type BillableReport = Pick<BillingReport, 'memorySizeMB' | 'billedDurationMs' | 'initDurationMs'>;

/** What the functions of one memory size were billed. */
export interface MemoryBill {
  memoryMB: number;
  invocations: number;
  billedDurationMs: number;
  gbSeconds: number;
}

export interface Bill {
  invocations: number;
  /** REPORT lines with an INIT duration. */
  coldStarts: number;
  billedDurationMs: number;
  gbSeconds: number;
  computeUsd: number;
  requestUsd: number;
  totalUsd: number;
  /** Per memory size, smallest first. */
  byMemory: MemoryBill[];
}

function checkReport(report: BillableReport, where: string): void {
  if (!(Number.isFinite(report.memorySizeMB) && report.memorySizeMB > 0))
    throw invalidField(`${where}.memorySizeMB`, `must be a positive number, got ${report.memorySizeMB}`);
  if (!(Number.isFinite(report.billedDurationMs) && report.billedDurationMs >= 0))
    throw invalidField(
      `${where}.billedDurationMs`,
      `must be a non-negative number, got ${report.billedDurationMs}`,
    );
}

/**
 * A bill that grows one REPORT line at a time, for a process that serves for hours (it keeps totals,
 * not the lines). GB-s = Σ memory × billed duration as reported (which includes INIT on cold starts
 * since 1 Aug 2025, see architecture/aws-lambda-facts.md); $ = GB-s × the first-tier duration rate +
 * requests × the request rate (no free tier, no monthly volume tiers).
 */
export class RunningBill {
  private invocations = 0;
  private coldStarts = 0;
  private billedDurationMs = 0;
  private gbSeconds = 0;
  private readonly byMemory = new Map<number, MemoryBill>();

  constructor(readonly rates: LambdaRates) {}

  add(report: BillableReport): void {
    checkReport(report, 'report');
    const gbSeconds = gbSecondsOf(report.memorySizeMB, report.billedDurationMs);
    this.invocations += 1;
    if (report.initDurationMs !== undefined) this.coldStarts += 1;
    this.billedDurationMs += report.billedDurationMs;
    this.gbSeconds += gbSeconds;
    let memory = this.byMemory.get(report.memorySizeMB);
    if (!memory) {
      memory = { memoryMB: report.memorySizeMB, invocations: 0, billedDurationMs: 0, gbSeconds: 0 };
      this.byMemory.set(report.memorySizeMB, memory);
    }
    memory.invocations += 1;
    memory.billedDurationMs += report.billedDurationMs;
    memory.gbSeconds += gbSeconds;
  }

  totals(): Bill {
    const computeUsd = this.gbSeconds * this.rates.usdPerGbSecond;
    const requestUsd = this.invocations * this.rates.usdPerRequest;
    return {
      invocations: this.invocations,
      coldStarts: this.coldStarts,
      billedDurationMs: this.billedDurationMs,
      gbSeconds: this.gbSeconds,
      computeUsd,
      requestUsd,
      totalUsd: computeUsd + requestUsd,
      byMemory: [...this.byMemory.values()]
        .map((memory) => ({ ...memory }))
        .sort((a, b) => a.memoryMB - b.memoryMB),
    };
  }
}

/** The bill of a run from the REPORT lines its invocations returned (see `RunningBill`). */
export function billFromReports(reports: readonly BillableReport[], rates: LambdaRates): Bill {
  const bill = new RunningBill(rates);
  reports.forEach((report, index) => {
    checkReport(report, `reports[${index}]`);
    bill.add(report);
  });
  return bill.totals();
}
