/** What a function run cost, as AWS reports it in the REPORT log line. */
export interface BillingReport {
  requestId: string;
  durationMs: number;
  billedDurationMs: number;
  memorySizeMB: number;
  maxMemoryUsedMB: number;
  /** Present on a cold start. Billed since 1 Aug 2025. */
  initDurationMs?: number;
}

export interface InvokeRequest {
  /** Function name or ARN. */
  functionName: string;
  /** Version or alias. */
  qualifier?: string;
  payload: Uint8Array;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface InvokeResult {
  payload: Uint8Array;
  billing: BillingReport;
  /** Last 4 KB of the function's log, decoded. */
  logTail?: string;
  /** Wall time seen by the caller, including transport. */
  latencyMs: number;
}

/**
 * Invokes a named function with a binary payload. Implementations: the AWS Lambda executor (real
 * Lambda or the embedded local runtime through the same SDK) and in-process executors for tests.
 * Failures reject with a SwitchyardError (EXECUTOR_FAILED, FUNCTION_ERROR, THROTTLED, TIMEOUT,
 * ABORTED, PAYLOAD_TOO_LARGE).
 */
export interface Executor {
  invoke(request: InvokeRequest): Promise<InvokeResult>;
  /**
   * Optional: the caller will not read `payload` (from an `InvokeResult` of this executor) again,
   * so an executor that pools response memory may reuse it. Callers that never call it lose nothing.
   */
  recycle?(payload: Uint8Array): void;
  close?(): Promise<void>;
}

/** Parses a Lambda `REPORT RequestId: … Duration: … Billed Duration: …` line from a log tail. */
export function parseReportLine(log: string): BillingReport | undefined {
  const line = log
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('REPORT '));
  if (!line) return undefined;
  const field = (name: string): number | undefined => {
    const match = new RegExp(`${name}: ([0-9.]+)`).exec(line);
    return match ? Number(match[1]) : undefined;
  };
  const requestId = /RequestId: ([^\s]+)/.exec(line)?.[1];
  const durationMs = field('(?<!Billed |Init )Duration');
  const billedDurationMs = field('Billed Duration');
  const memorySizeMB = field('Memory Size');
  const maxMemoryUsedMB = field('Max Memory Used');
  const initDurationMs = field('Init Duration');
  if (
    requestId === undefined ||
    durationMs === undefined ||
    billedDurationMs === undefined ||
    memorySizeMB === undefined ||
    maxMemoryUsedMB === undefined
  ) {
    return undefined;
  }
  return {
    requestId,
    durationMs,
    billedDurationMs,
    memorySizeMB,
    maxMemoryUsedMB,
    ...(initDurationMs === undefined ? {} : { initDurationMs }),
  };
}

/** Formats a REPORT line exactly as Lambda writes it. */
export function formatReportLine(report: BillingReport): string {
  const init =
    report.initDurationMs === undefined ? '' : `\tInit Duration: ${report.initDurationMs.toFixed(2)} ms`;
  return (
    `REPORT RequestId: ${report.requestId}\tDuration: ${report.durationMs.toFixed(2)} ms\t` +
    `Billed Duration: ${report.billedDurationMs} ms\tMemory Size: ${report.memorySizeMB} MB\t` +
    `Max Memory Used: ${report.maxMemoryUsedMB} MB${init}\t`
  );
}
