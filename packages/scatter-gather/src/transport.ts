import type { BillingReport, Executor, WireDtype } from '@switchyard/core';
import { wireMessageBytes } from '@switchyard/core';

export interface ExchangeRequest {
  functionName: string;
  /** Encoded wire request. */
  payload: Uint8Array;
  /** Unique per attempt; object-storage transports derive object keys from it. */
  attemptKey: string;
  signal: AbortSignal;
  timeoutMs?: number | undefined;
}

export interface ExchangeResult {
  /** Encoded wire response. */
  payload: Uint8Array;
  billing?: BillingReport;
  latencyMs: number;
  /** Bytes that crossed the wire each way (payloads, or objects plus pointers). */
  requestBytes: number;
  responseBytes: number;
}

/** Moves one encoded mini-batch to a function and its answer back. */
export interface Transport {
  exchange(request: ExchangeRequest): Promise<ExchangeResult>;
  /** Optional: the caller is done with an `ExchangeResult.payload` (its memory may be reused). */
  release?(payload: Uint8Array): void;
}

/** Direct invocation: the wire message is the Lambda payload (method 3 of the paper). */
export function createDirectTransport(executor: Executor): Transport {
  return {
    async exchange(request) {
      const result = await executor.invoke({
        functionName: request.functionName,
        payload: request.payload,
        signal: request.signal,
        timeoutMs: request.timeoutMs,
      });
      return {
        payload: result.payload,
        billing: result.billing,
        latencyMs: result.latencyMs,
        requestBytes: request.payload.byteLength,
        responseBytes: result.payload.byteLength,
      };
    },
    release: executor.recycle && ((payload: Uint8Array) => executor.recycle!(payload)),
  };
}

/** Size of `bytes` once base64-encoded. */
export function base64Bytes(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

/**
 * Largest mini-batch (tokens) whose request and response both stay under `limitBytes` once the
 * executor has base64-encoded them into its JSON envelope (+33 %; the envelope is in
 * architecture/formats.md).
 */
export function maxDirectTokens(options: {
  hiddenSize: number;
  segments: number;
  dtype: WireDtype;
  limitBytes: number;
  envelopeOverheadBytes: number;
}): number {
  const rawBudget = Math.floor((options.limitBytes - options.envelopeOverheadBytes) / 4) * 3;
  const fixed = wireMessageBytes(options.segments, 0, options.hiddenSize, options.dtype);
  const perToken = wireMessageBytes(options.segments, 1, options.hiddenSize, options.dtype) - fixed;
  const tokens = Math.floor((rawBudget - fixed) / perToken);
  // Guard the arithmetic with the exact encoded size.
  let fit = Math.max(0, tokens);
  while (
    fit > 0 &&
    base64Bytes(wireMessageBytes(options.segments, fit, options.hiddenSize, options.dtype)) +
      options.envelopeOverheadBytes >
      options.limitBytes
  ) {
    fit--;
  }
  return fit;
}
