import {
  describeError,
  type Logger,
  type PlanFunction,
  parseReportLine,
  SwitchyardError,
} from '@switchyard/core';
import type { BufferPool } from './buffer-pool.js';
import { ScatterGatherError } from './errors.js';
import type { InvokeEvent, ScatterGatherEvent } from './events.js';
import type { LatencyWindow } from './latency-window.js';
import type { LayerStatsRecorder } from './layer-stats.js';
import type { Limiter } from './limiter.js';
import type { MiniBatchCodec } from './mini-batch-codec.js';
import type { ResolvedScatterGatherOptions } from './options.js';
import type { MiniBatch } from './partition.js';
import { errorCode, hedgeDelayMs, isRetryable } from './retry-policy.js';
import type { ExchangeResult, Transport } from './transport.js';

/** What every mini-batch of one layer call shares. */
export interface LayerCall {
  layer: number;
  functions: readonly PlanFunction[];
  options: ResolvedScatterGatherOptions;
  transport: Transport;
  codec: MiniBatchCodec;
  recorder: LayerStatsRecorder;
  latencies: LatencyWindow;
  limiter: Limiter;
  /** Invocations in flight per deployed function name (shared across layers and calls). */
  inFlight: Map<string, number>;
  pool: BufferPool;
  /** Aborts when the layer call fails, misses its deadline or the caller cancels. */
  signal: AbortSignal;
  /** Distinguishes attempt keys across calls. */
  callId: string;
  onEvent: ((event: ScatterGatherEvent) => void) | undefined;
  logger: Logger;
}

/** One attempt at the mini-batch: a first try, a retry or a hedged duplicate. */
interface Attempt {
  number: number;
  hedge: boolean;
  functionName: string;
  controller: AbortController;
  release: (() => void) | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** When the request went out (0 = never sent). */
  sentAt: number;
  requestBytes: number;
  /** Whether the failure path already took this attempt off `outstanding`. */
  counted: boolean;
}

/**
 * The retry/hedge state machine of one mini-batch. Attempts go to the batch's replica, then the
 * next ones; a failure is retried while the error is retryable and the budget lasts; an attempt
 * slower than the hedge delay gets a duplicate. The first valid answer settles the batch (it is
 * folded exactly once), every other attempt is aborted, and an answer that arrives later is counted
 * as wasted. The request bytes go back to the pool once no attempt can read them.
 */
export class MiniBatchRun {
  private readonly fn: PlanFunction;
  private readonly experts: number[];
  private payload: Uint8Array | undefined;
  private payloadReleased = false;
  private settled = false;
  private outstanding = 0;
  private attempts = 0;
  private retries = 0;
  private hedges = 0;
  private lastError: unknown;
  private readonly controllers = new Set<AbortController>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private resolve: () => void = () => {};
  private reject: (error: unknown) => void = () => {};
  private readonly onLayerAbort = (): void => this.finish(this.call.signal.reason);

  constructor(
    private readonly call: LayerCall,
    private readonly batch: MiniBatch,
  ) {
    this.fn = call.functions[batch.functionIndex]!;
    this.experts = batch.segments.map((segment) => segment.expert);
  }

  /** Resolves once an answer was folded; rejects with the layer's abort reason or the final failure. */
  run(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.call.signal.addEventListener('abort', this.onLayerAbort, { once: true });
      void this.launch(false);
    });
  }

  private finish(error?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    for (const timer of this.timers) clearTimeout(timer);
    for (const controller of this.controllers) controller.abort();
    this.call.signal.removeEventListener('abort', this.onLayerAbort);
    if (error === undefined) this.resolve();
    else this.reject(error);
  }

  private async launch(hedge: boolean): Promise<void> {
    const attempt = this.startAttempt(hedge);
    try {
      attempt.release = await this.call.limiter.acquire(attempt.functionName, attempt.controller.signal);
      if (this.settled)
        throw new ScatterGatherError({ code: 'ABORTED', message: 'mini-batch already settled' });
      this.call.inFlight.set(attempt.functionName, (this.call.inFlight.get(attempt.functionName) ?? 0) + 1);
      this.payload ??= this.call.codec.encode(this.batch);
      attempt.requestBytes = this.payload.byteLength;
      this.armAttemptTimeout(attempt);
      if (!hedge) this.armHedge(attempt.functionName);
      attempt.sentAt = performance.now();
      const timeoutMs = this.call.options.retry.attemptTimeoutMs;
      const result = await this.call.transport.exchange({
        functionName: attempt.functionName,
        payload: this.payload,
        attemptKey: `${this.call.callId}/l${this.call.layer}/b${this.batch.index}/a${attempt.number}`,
        signal: attempt.controller.signal,
        timeoutMs,
      });
      if (attempt.controller.signal.aborted) throw attempt.controller.signal.reason;
      this.onAnswer(attempt, result);
    } catch (error) {
      this.onFailure(attempt, error);
    } finally {
      this.endAttempt(attempt);
    }
  }

  private startAttempt(hedge: boolean): Attempt {
    this.attempts++;
    const number = this.attempts;
    // Retries and hedges move to the next replica so one bad instance cannot hold a batch.
    const replica = (this.batch.replica + number - 1) % this.fn.functionNames.length;
    const controller = new AbortController();
    this.controllers.add(controller);
    this.outstanding++;
    return {
      number,
      hedge,
      functionName: this.fn.functionNames[replica]!,
      controller,
      release: undefined,
      timer: undefined,
      sentAt: 0,
      requestBytes: 0,
      counted: false,
    };
  }

  private armAttemptTimeout(attempt: Attempt): void {
    const timeoutMs = this.call.options.retry.attemptTimeoutMs;
    if (timeoutMs === undefined) return;
    attempt.timer = setTimeout(
      () =>
        attempt.controller.abort(
          new ScatterGatherError({
            code: 'TIMEOUT',
            message: `attempt ${attempt.number} at ${attempt.functionName} took longer than ${timeoutMs} ms`,
            retryable: true,
          }),
        ),
      timeoutMs,
    );
  }

  /** Sends a duplicate if this first try or retry is still unanswered after the hedge delay. */
  private armHedge(functionName: string): void {
    const delay = hedgeDelayMs(this.call.options.hedge, this.call.latencies);
    const maxHedges = this.call.options.hedge.maxHedgesPerBatch;
    if (delay === undefined || this.hedges >= maxHedges) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.settled || this.hedges >= maxHedges) return;
      this.hedges++;
      this.call.recorder.stats.hedges++;
      this.call.recorder.account(this.batch, (entry) => {
        entry.hedges++;
      });
      this.call.onEvent?.({ type: 'hedge', ...this.eventBase(functionName), afterMs: delay });
      void this.launch(true);
    }, delay);
    this.timers.add(timer);
  }

  private onAnswer(attempt: Attempt, result: ExchangeResult): void {
    const { recorder, transport } = this.call;
    const stats = recorder.stats;
    const message = this.call.codec.decode(this.batch, result.payload);
    const latencyMs = performance.now() - attempt.sentAt;
    stats.invocations++;
    stats.requestBytes += result.requestBytes;
    stats.responseBytes += result.responseBytes;
    stats.billedDurationMs += result.billing?.billedDurationMs ?? 0;
    const won = !this.settled;
    this.emitInvoke(attempt, won ? 'won' : 'lost', {
      requestBytes: result.requestBytes,
      responseBytes: result.responseBytes,
      latencyMs,
      durationMs: result.billing?.durationMs,
      billedDurationMs: result.billing?.billedDurationMs,
    });
    recorder.account(this.batch, (entry, share) => {
      entry.requestBytes += result.requestBytes * share;
      entry.responseBytes += result.responseBytes * share;
      entry.billedDurationMs += (result.billing?.billedDurationMs ?? 0) * share;
    });
    if (!won) {
      stats.wastedInvocations++;
      transport.release?.(result.payload);
      return;
    }
    this.call.latencies.add(latencyMs);
    stats.computeDurationMs += result.billing?.durationMs ?? 0;
    this.call.codec.fold(this.batch, message);
    transport.release?.(result.payload);
    recorder.account(this.batch, (entry) => {
      entry.miniBatches++;
      entry.maxLatencyMs = Math.max(entry.maxLatencyMs, latencyMs);
    });
    this.finish();
  }

  private onFailure(attempt: Attempt, error: unknown): void {
    const { controller } = attempt;
    const stats = this.call.recorder.stats;
    const reason = controller.signal.aborted ? (controller.signal.reason ?? error) : error;
    this.outstanding--;
    attempt.counted = true;
    const layerAborted = this.call.signal.aborted;
    // A function error's REPORT line: Lambda bills a failed invocation like any other.
    const billing = failedInvocationBilling(error);
    if (billing && attempt.sentAt > 0 && !layerAborted) {
      stats.billedDurationMs += billing.billedDurationMs;
      this.call.recorder.account(this.batch, (entry, share) => {
        entry.billedDurationMs += billing.billedDurationMs * share;
      });
    }
    if (this.settled && attempt.sentAt > 0 && !layerAborted) {
      // A hedged twin or retry that lost the race after being sent: paid for, never folded.
      stats.invocations++;
      stats.wastedInvocations++;
      this.emitInvoke(attempt, 'lost', { ...this.unanswered(attempt), ...billing });
      return;
    }
    if (this.settled || layerAborted) return;
    if (attempt.sentAt > 0) {
      stats.invocations++;
      this.emitInvoke(attempt, 'failed', {
        ...this.unanswered(attempt),
        ...billing,
        errorCode: errorCode(reason),
      });
    }
    this.lastError = reason;
    if (isRetryable(reason) && this.retries < this.call.options.retry.maxRetries) {
      this.retries++;
      stats.retries++;
      this.call.recorder.account(this.batch, (entry) => {
        entry.retries++;
      });
      this.call.onEvent?.({
        type: 'retry',
        ...this.eventBase(attempt.functionName),
        attempt: attempt.number + 1,
        errorCode: errorCode(reason),
        message: describeError(reason),
      });
      this.call.logger.debug('scatter-gather retry', {
        layer: this.call.layer,
        functionName: attempt.functionName,
        attempt: attempt.number,
      });
      // Launched before this attempt's slot is released (the `finally` of `launch`), as it always was.
      void this.launch(false);
      return;
    }
    if (this.outstanding > 0) return; // a hedged twin may still answer
    this.finish(this.unreachable());
  }

  private endAttempt(attempt: Attempt): void {
    if (!attempt.counted) this.outstanding--;
    // The request bytes go back to the pool once no attempt of this mini-batch can read them.
    if (this.settled && this.outstanding === 0 && this.payload && !this.payloadReleased) {
      this.payloadReleased = true;
      this.call.pool.give(this.payload);
    }
    if (attempt.timer) clearTimeout(attempt.timer);
    this.controllers.delete(attempt.controller);
    if (attempt.release) {
      this.call.inFlight.set(attempt.functionName, (this.call.inFlight.get(attempt.functionName) ?? 1) - 1);
      attempt.release();
    }
  }

  /** The error the batch settles with once its retry budget is spent. */
  private unreachable(): ScatterGatherError {
    const { fn, experts, attempts, retries, lastError } = this;
    const replicas = fn.functionNames.length;
    return new ScatterGatherError({
      code:
        SwitchyardError.isInstance(lastError) && lastError.code === 'PAYLOAD_TOO_LARGE'
          ? 'PAYLOAD_TOO_LARGE'
          : 'EXECUTOR_FAILED',
      message: `layer ${this.call.layer}: expert${experts.length > 1 ? 's' : ''} ${experts.join(', ')} unreachable at function ${fn.name} (${replicas} replica${replicas > 1 ? 's' : ''}) after ${attempts} attempt${attempts > 1 ? 's' : ''} (${retries} retries); last error: ${describeError(lastError)}`,
      cause: lastError,
      location: fn.name,
      layer: this.call.layer,
      experts,
    });
  }

  private eventBase(functionName: string): {
    layer: number;
    functionName: string;
    experts: number[];
    tokens: number;
  } {
    return { layer: this.call.layer, functionName, experts: this.experts, tokens: this.batch.tokens };
  }

  /** The byte and latency fields of an attempt that got no answer. */
  private unanswered(attempt: Attempt): Pick<InvokeEvent, 'requestBytes' | 'responseBytes' | 'latencyMs'> {
    return {
      requestBytes: attempt.requestBytes,
      responseBytes: 0,
      latencyMs: performance.now() - attempt.sentAt,
    };
  }

  private emitInvoke(
    attempt: Attempt,
    outcome: InvokeEvent['outcome'],
    fields: Omit<
      InvokeEvent,
      'type' | 'layer' | 'functionName' | 'experts' | 'tokens' | 'attempt' | 'hedge' | 'outcome'
    >,
  ): void {
    this.call.onEvent?.({
      type: 'invoke',
      ...this.eventBase(attempt.functionName),
      attempt: attempt.number,
      hedge: attempt.hedge,
      outcome,
      ...fields,
    });
  }
}

/**
 * The billed and run time of a failed invocation, from the REPORT line at the end of the log tail a
 * function error carries (the Lambda executor's FUNCTION_ERROR); undefined for errors without one.
 */
function failedInvocationBilling(
  error: unknown,
): { durationMs: number; billedDurationMs: number } | undefined {
  const logTail = (error as { logTail?: unknown } | null | undefined)?.logTail;
  if (typeof logTail !== 'string') return undefined;
  const report = parseReportLine(logTail);
  return report ? { durationMs: report.durationMs, billedDurationMs: report.billedDurationMs } : undefined;
}
