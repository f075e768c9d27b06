import { formatReportLine } from '@switchyard/core';
import type { InvocationOutcome } from './function-instance.js';
import { type NodeRuntime, nodeMajorOf } from './runtimes.js';

/** What the Invoke API answers: the payload, and for a failed invocation its error type. */
export interface InvocationAnswer {
  payload: Uint8Array;
  /** Set when the invocation failed (`X-Amz-Function-Error: Unhandled`). */
  errorType?: string;
}

/**
 * The Invoke answer for an outcome: the handler's result, or Lambda's `{ errorType, errorMessage,
 * trace }` body for a failure, including a result over the payload limit (`Function.ResponseSizeTooLarge`).
 */
export function invocationAnswer(outcome: InvocationOutcome, maxPayloadBytes: number): InvocationAnswer {
  if (outcome.kind === 'result' && outcome.payload.byteLength > maxPayloadBytes) {
    const errorType = 'Function.ResponseSizeTooLarge';
    const errorMessage = `Response payload size exceeded maximum allowed payload size (${maxPayloadBytes} bytes).`;
    return { errorType, payload: Buffer.from(JSON.stringify({ errorType, errorMessage })) };
  }
  if (outcome.kind === 'result') return { payload: outcome.payload };
  const { errorType, errorMessage, trace } = outcome;
  return { errorType, payload: Buffer.from(JSON.stringify({ errorType, errorMessage, trace })) };
}

/** Lambda bills the INIT phase too (since 1 Aug 2025): billed = ceil(duration + init), at least 1 ms. */
export function billedDurationMs(durationMs: number, initDurationMs: number | undefined): number {
  return Math.max(1, Math.ceil(durationMs + (initDurationMs ?? 0)));
}

/** `value` to 0.01, exactly as the REPORT line prints it. */
function hundredths(value: number): number {
  return Number(value.toFixed(2));
}

/**
 * The invocation's log as Lambda writes it: `INIT_START` on a cold start, `START`, the function's
 * output, `END` and the REPORT line (architecture/aws-lambda-facts.md, "The REPORT line").
 */
export function invocationLog(invocation: {
  requestId: string;
  outcome: InvocationOutcome;
  /** Reported duration (after vCPU emulation). */
  durationMs: number;
  initDurationMs: number | undefined;
  memorySizeMB: number;
  errorType: string | undefined;
  /** The version that ran (`$LATEST` or a number). */
  version: string;
  runtime: NodeRuntime;
}): Buffer {
  const { requestId, outcome, errorType } = invocation;
  // The line prints durations to 0.01 ms; billing those printed values keeps the line consistent
  // (billed = ceil(duration + init) holds for what a reader sees).
  const durationMs = hundredths(invocation.durationMs);
  const initDurationMs =
    invocation.initDurationMs === undefined ? undefined : hundredths(invocation.initDurationMs);
  const report = formatReportLine({
    requestId,
    durationMs,
    billedDurationMs: billedDurationMs(durationMs, initDurationMs),
    memorySizeMB: invocation.memorySizeMB,
    maxMemoryUsedMB: outcome.maxMemoryUsedMB,
    initDurationMs,
  });
  const lines: string[] = [];
  if (initDurationMs !== undefined) {
    lines.push(`INIT_START Runtime Version: nodejs:${nodeMajorOf(invocation.runtime)}.switchyard-local\n`);
  }
  lines.push(`START RequestId: ${requestId} Version: ${invocation.version}\n`);
  lines.push(outcome.logs);
  if (outcome.kind === 'error' && outcome.fatal) {
    lines.push(`${new Date().toISOString()} ${requestId} ${outcome.errorMessage}\n`);
  }
  lines.push(`END RequestId: ${requestId}\n`);
  lines.push(`${report}${errorType ? `Status: error\tError Type: ${errorType}` : ''}\n`);
  return Buffer.from(lines.join(''), 'utf8');
}
