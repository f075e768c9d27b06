import { setMaxListeners } from 'node:events';
import {
  decodeExpertMessage,
  describeError,
  draftExpertMessage,
  type ExpertMessage,
  gatherRows,
  groupTokensByExpert,
  type Logger,
  noopLogger,
  type PlanLayer,
  SwitchyardError,
  type TransportMethod,
  wireMessageBytes,
} from '@switchyard/core';
import type { BufferPool } from './buffer-pool.js';
import { OutputCombiner } from './combine.js';
import { ScatterGatherError } from './errors.js';
import type { ExpertStats, LayerStats, ScatterGatherEvent } from './events.js';
import type { Limiter } from './limiter.js';
import type { ScatterGatherOptions } from './options.js';
import { type MiniBatch, partitionLayer } from './partition.js';
import { maxDirectTokens, type Transport } from './transport.js';

/** Recent attempt latencies of one layer, for the hedging quantile. */
export class LatencyWindow {
  private readonly values: number[] = [];
  constructor(private readonly capacity = 256) {}
  add(latencyMs: number): void {
    this.values.push(latencyMs);
    if (this.values.length > this.capacity) this.values.shift();
  }
  get size(): number {
    return this.values.length;
  }
  quantile(q: number): number {
    const sorted = [...this.values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  }
}

export interface DispatchContext {
  options: ScatterGatherOptions;
  transports: Partial<Record<TransportMethod, Transport>>;
  limiter: Limiter;
  inFlight: Map<string, number>;
  latencies: (layer: number) => LatencyWindow;
  onEvent?: (event: ScatterGatherEvent) => void;
  logger?: Logger;
  /** Distinguishes attempt keys across calls (object keys). */
  callId: string;
  /** Request message buffers, reused across mini-batches and calls. */
  pool: BufferPool;
}

export interface DispatchLayerInput {
  layer: PlanLayer;
  numExperts: number;
  hiddenStates: Float32Array;
  numTokens: number;
  hiddenSize: number;
  topK: number;
  topkIds: Int32Array;
  /** Final routing weights [T × K], as `MoeStepRequest.topkWeights`. */
  topkWeights: Float32Array;
  signal?: AbortSignal;
}

export interface DispatchLayerResult {
  /**
   * Weighted sum of the routed experts' outputs [T × H], bit-identical to `combineExpertOutputs`
   * of @switchyard/model over the same expert rows (folded as mini-batches arrive).
   */
  output: Float32Array;
  stats: LayerStats;
}

function now(): number {
  return performance.now();
}

function errorCode(error: unknown): string {
  return SwitchyardError.isInstance(error) ? error.code : 'INTERNAL';
}

function isRetryable(error: unknown): boolean {
  if (!SwitchyardError.isInstance(error)) return true;
  return !['PAYLOAD_TOO_LARGE', 'INVALID_INPUT', 'INVALID_CONFIG', 'PLAN_INVALID'].includes(error.code);
}

/**
 * Scatters one MoE layer's routed tokens to the plan's expert functions and gathers the weighted
 * sum of their outputs. Mini-batches are encoded (rows gathered straight into a pooled wire buffer)
 * just before they are sent, dispatched concurrently, and their rows folded into the layer output
 * the moment they arrive; each mini-batch is folded exactly once no matter how many retries or
 * hedged duplicates it took.
 */
export async function dispatchLayer(
  input: DispatchLayerInput,
  context: DispatchContext,
): Promise<DispatchLayerResult> {
  const started = now();
  const { options } = context;
  const logger = context.logger ?? noopLogger;
  const { layer, hiddenSize } = input;
  const method = options.method ?? layer.method;
  const transport = context.transports[method];
  if (!transport) {
    throw new ScatterGatherError({
      code: 'INVALID_CONFIG',
      message: `layer ${layer.layer} uses transport '${method}', which is not configured (object-storage methods need the s3 option)`,
      layer: layer.layer,
    });
  }
  if (input.hiddenStates.length !== input.numTokens * hiddenSize) {
    throw new ScatterGatherError({
      code: 'INVALID_INPUT',
      message: `hiddenStates holds ${input.hiddenStates.length} values, expected ${input.numTokens} × ${hiddenSize}`,
      location: 'MoeStepRequest.hiddenStates',
      layer: layer.layer,
    });
  }
  const groups = groupTokensByExpert(input.topkIds, input.numTokens, input.topK, input.numExperts);
  const counts = groups.tokens.map((tokens) => tokens.length);
  const beta = options.beta ?? layer.beta;
  const maxSegments = Math.max(...layer.functions.map((fn) => fn.experts.length));
  const payloadCap =
    method === 'direct'
      ? maxDirectTokens({
          hiddenSize,
          segments: maxSegments,
          dtype: options.wireDtype,
          limitBytes: options.payloadLimitBytes,
          envelopeOverheadBytes: options.envelopeOverheadBytes,
        })
      : Number.POSITIVE_INFINITY;
  // Paper method 2 (`s3`) is not pipelined: one object per replica; 1 and 3 cut at β.
  const maxTokensPerBatch = method === 's3' ? payloadCap : Math.min(beta, payloadCap);
  const batches = partitionLayer({
    layer,
    expertTokenCounts: counts,
    maxTokensPerBatch,
    inFlight: (name) => context.inFlight.get(name) ?? 0,
  });

  if (input.topkWeights.length !== input.numTokens * input.topK) {
    throw new ScatterGatherError({
      code: 'INVALID_INPUT',
      message: `topkWeights holds ${input.topkWeights.length} values, expected ${input.numTokens} × ${input.topK}`,
      location: 'MoeStepRequest.topkWeights',
      layer: layer.layer,
    });
  }
  // Created at the first answer, not here: allocating and zeroing T × H floats before the first
  // mini-batch is sent would put it on the critical path instead of under the experts' compute.
  let combiner: OutputCombiner | undefined;
  const combinerOf = (): OutputCombiner => {
    combiner ??= new OutputCombiner(input.numTokens, hiddenSize, input.topK, input.topkWeights);
    return combiner;
  };
  const expertStats = new Map<number, ExpertStats>();
  for (const [expert, count] of counts.entries()) {
    if (count === 0) continue;
    expertStats.set(expert, {
      expert,
      tokens: count,
      miniBatches: 0,
      requestBytes: 0,
      responseBytes: 0,
      maxLatencyMs: 0,
      billedDurationMs: 0,
      retries: 0,
      hedges: 0,
    });
  }
  const stats: LayerStats = {
    layer: layer.layer,
    method,
    beta,
    tokens: input.numTokens,
    rows: counts.reduce((a, b) => a + b, 0),
    miniBatches: batches.length,
    invocations: 0,
    retries: 0,
    hedges: 0,
    wastedInvocations: 0,
    requestBytes: 0,
    responseBytes: 0,
    billedDurationMs: 0,
    computeDurationMs: 0,
    wallMs: 0,
    experts: [],
  };

  // One controller for the whole layer: caller's signal, the layer deadline, or a fatal batch error.
  const layerController = new AbortController();
  // Every in-flight mini-batch listens to the layer signal.
  setMaxListeners(0, layerController.signal);
  const abortLayer = (reason: unknown): void => {
    if (!layerController.signal.aborted) layerController.abort(reason);
  };
  const onCallerAbort = (): void =>
    abortLayer(
      new ScatterGatherError({
        code: 'ABORTED',
        message: `layer ${layer.layer} scatter-gather was cancelled`,
        cause: input.signal?.reason,
        layer: layer.layer,
      }),
    );
  if (input.signal?.aborted) onCallerAbort();
  input.signal?.addEventListener('abort', onCallerAbort, { once: true });
  const deadline =
    options.layerDeadlineMs === undefined
      ? undefined
      : setTimeout(
          () =>
            abortLayer(
              new ScatterGatherError({
                code: 'TIMEOUT',
                message: `layer ${layer.layer} missed its ${options.layerDeadlineMs} ms deadline`,
                layer: layer.layer,
                retryable: true,
              }),
            ),
          options.layerDeadlineMs,
        );

  const latencies = context.latencies(layer.layer);
  const hedgeDelay = (): number | undefined => {
    const hedge = options.hedge;
    if (!hedge.enabled || hedge.maxHedgesPerBatch === 0) return undefined;
    if (hedge.afterMs !== undefined) return hedge.afterMs;
    if (latencies.size < hedge.minSamples) return undefined;
    return Math.max(hedge.minDelayMs, latencies.quantile(hedge.quantile));
  };

  const encode = (batch: MiniBatch): Uint8Array => {
    const segments = batch.segments.length;
    const draft = draftExpertMessage(
      {
        kind: 'request',
        dtype: options.wireDtype,
        layer: layer.layer,
        sequence: batch.index,
        hiddenSize,
        expertIds: batch.segments.map((segment) => segment.expert),
        tokenCounts: batch.segments.map((segment) => segment.count),
      },
      { target: context.pool.take(wireMessageBytes(segments, batch.tokens, hiddenSize, options.wireDtype)) },
    );
    // f32: the rows land in the message bytes themselves (no staging copy).
    let row = 0;
    for (const segment of batch.segments) {
      gatherRows(
        input.hiddenStates,
        hiddenSize,
        groups.tokens[segment.expert]!.subarray(segment.start, segment.start + segment.count),
        draft.activations,
        row,
      );
      row += segment.count;
    }
    return draft.finish();
  };

  const validate = (batch: MiniBatch, bytes: Uint8Array): ExpertMessage => {
    // A view of the response bytes: its rows are folded, then the bytes go back to the transport.
    const message = decodeExpertMessage(bytes, { skipChecksum: options.skipChecksum, view: true });
    const expected = batch.segments;
    const matches =
      message.kind === 'response' &&
      message.layer === layer.layer &&
      message.sequence === batch.index &&
      message.hiddenSize === hiddenSize &&
      message.expertIds.length === expected.length &&
      expected.every(
        (segment, i) => message.expertIds[i] === segment.expert && message.tokenCounts[i] === segment.count,
      );
    if (!matches) {
      throw new ScatterGatherError({
        code: 'WIRE_FORMAT_INVALID',
        message: `response to mini-batch ${batch.index} of layer ${layer.layer} does not match its request (experts ${message.expertIds.join(',')}, tokens ${message.tokenCounts.join(',')}, sequence ${message.sequence})`,
        layer: layer.layer,
        retryable: true,
      });
    }
    return message;
  };

  const fold = (batch: MiniBatch, message: ExpertMessage): void => {
    const values = message.activations;
    const target = combinerOf();
    let offset = 0;
    for (const segment of batch.segments) {
      const slots = groups.slots[segment.expert]!;
      for (let row = segment.start; row < segment.start + segment.count; row++) {
        target.add(slots[row]!, values, offset);
        offset += hiddenSize;
      }
    }
  };

  const account = (batch: MiniBatch, fn: (stats: ExpertStats, share: number) => void): void => {
    for (const segment of batch.segments) fn(expertStats.get(segment.expert)!, segment.count / batch.tokens);
  };

  const runBatch = (batch: MiniBatch): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const fn = layer.functions[batch.functionIndex]!;
      const experts = batch.segments.map((segment) => segment.expert);
      const replicas = fn.functionNames.length;
      let payload: Uint8Array | undefined;
      let payloadReleased = false;
      let settled = false;
      let outstanding = 0;
      let attempts = 0;
      let retries = 0;
      let hedges = 0;
      let lastError: unknown;
      const controllers = new Set<AbortController>();
      const timers = new Set<ReturnType<typeof setTimeout>>();
      const finish = (error?: unknown): void => {
        if (settled) return;
        settled = true;
        for (const timer of timers) clearTimeout(timer);
        for (const controller of controllers) controller.abort();
        layerController.signal.removeEventListener('abort', onLayerAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onLayerAbort = (): void => finish(layerController.signal.reason);
      layerController.signal.addEventListener('abort', onLayerAbort, { once: true });

      const launch = async (hedge: boolean): Promise<void> => {
        attempts++;
        const attempt = attempts;
        // Retries and hedges move to the next replica so one bad instance cannot hold a batch.
        const replica = (batch.replica + attempt - 1) % replicas;
        const functionName = fn.functionNames[replica]!;
        const controller = new AbortController();
        controllers.add(controller);
        outstanding++;
        let release: (() => void) | undefined;
        let attemptTimer: ReturnType<typeof setTimeout> | undefined;
        let sentAt = 0;
        let requestBytes = 0;
        let counted = false;
        try {
          release = await context.limiter.acquire(functionName, controller.signal);
          if (settled)
            throw new ScatterGatherError({ code: 'ABORTED', message: 'mini-batch already settled' });
          context.inFlight.set(functionName, (context.inFlight.get(functionName) ?? 0) + 1);
          payload ??= encode(batch);
          requestBytes = payload.byteLength;
          if (options.retry.attemptTimeoutMs !== undefined) {
            const timeoutMs = options.retry.attemptTimeoutMs;
            attemptTimer = setTimeout(
              () =>
                controller.abort(
                  new ScatterGatherError({
                    code: 'TIMEOUT',
                    message: `attempt ${attempt} at ${functionName} took longer than ${timeoutMs} ms`,
                    retryable: true,
                  }),
                ),
              timeoutMs,
            );
          }
          const delay = hedge ? undefined : hedgeDelay();
          if (delay !== undefined && hedges < options.hedge.maxHedgesPerBatch) {
            const timer = setTimeout(() => {
              timers.delete(timer);
              if (settled || hedges >= options.hedge.maxHedgesPerBatch) return;
              hedges++;
              stats.hedges++;
              account(batch, (entry) => {
                entry.hedges++;
              });
              context.onEvent?.({
                type: 'hedge',
                layer: layer.layer,
                functionName,
                experts,
                tokens: batch.tokens,
                afterMs: delay,
              });
              void launch(true);
            }, delay);
            timers.add(timer);
          }
          sentAt = now();
          const result = await transport.exchange({
            functionName,
            payload,
            attemptKey: `${context.callId}/l${layer.layer}/b${batch.index}/a${attempt}`,
            signal: controller.signal,
            ...(options.retry.attemptTimeoutMs === undefined
              ? {}
              : { timeoutMs: options.retry.attemptTimeoutMs }),
          });
          if (controller.signal.aborted) throw controller.signal.reason;
          const message = validate(batch, result.payload);
          const latencyMs = now() - sentAt;
          stats.invocations++;
          stats.requestBytes += result.requestBytes;
          stats.responseBytes += result.responseBytes;
          stats.billedDurationMs += result.billing?.billedDurationMs ?? 0;
          const won = !settled;
          context.onEvent?.({
            type: 'invoke',
            layer: layer.layer,
            functionName,
            experts,
            tokens: batch.tokens,
            attempt,
            hedge,
            outcome: won ? 'won' : 'lost',
            requestBytes: result.requestBytes,
            responseBytes: result.responseBytes,
            latencyMs,
            ...(result.billing
              ? { durationMs: result.billing.durationMs, billedDurationMs: result.billing.billedDurationMs }
              : {}),
          });
          account(batch, (entry, share) => {
            entry.requestBytes += result.requestBytes * share;
            entry.responseBytes += result.responseBytes * share;
            entry.billedDurationMs += (result.billing?.billedDurationMs ?? 0) * share;
          });
          if (!won) {
            stats.wastedInvocations++;
            transport.release?.(result.payload);
            return;
          }
          latencies.add(latencyMs);
          stats.computeDurationMs += result.billing?.durationMs ?? 0;
          fold(batch, message);
          transport.release?.(result.payload);
          account(batch, (entry) => {
            entry.miniBatches++;
            entry.maxLatencyMs = Math.max(entry.maxLatencyMs, latencyMs);
          });
          finish();
        } catch (error) {
          const reason = controller.signal.aborted ? (controller.signal.reason ?? error) : error;
          outstanding--;
          counted = true;
          if (settled && sentAt > 0 && !layerController.signal.aborted) {
            // A hedged twin or retry that lost the race after being sent: paid for, never folded.
            stats.invocations++;
            stats.wastedInvocations++;
            context.onEvent?.({
              type: 'invoke',
              layer: layer.layer,
              functionName,
              experts,
              tokens: batch.tokens,
              attempt,
              hedge,
              outcome: 'lost',
              requestBytes,
              responseBytes: 0,
              latencyMs: now() - sentAt,
            });
            return;
          }
          if (settled || layerController.signal.aborted) return;
          if (sentAt > 0) {
            stats.invocations++;
            context.onEvent?.({
              type: 'invoke',
              layer: layer.layer,
              functionName,
              experts,
              tokens: batch.tokens,
              attempt,
              hedge,
              outcome: 'failed',
              requestBytes,
              responseBytes: 0,
              latencyMs: now() - sentAt,
              errorCode: errorCode(reason),
            });
          }
          lastError = reason;
          if (isRetryable(reason) && retries < options.retry.maxRetries) {
            retries++;
            stats.retries++;
            account(batch, (entry) => {
              entry.retries++;
            });
            context.onEvent?.({
              type: 'retry',
              layer: layer.layer,
              functionName,
              experts,
              tokens: batch.tokens,
              attempt: attempt + 1,
              errorCode: errorCode(reason),
              message: describeError(reason),
            });
            logger.debug('scatter-gather retry', { layer: layer.layer, functionName, attempt });
            void launch(false);
            return;
          }
          if (outstanding > 0) return; // a hedged twin may still answer
          finish(
            new ScatterGatherError({
              code:
                SwitchyardError.isInstance(lastError) && lastError.code === 'PAYLOAD_TOO_LARGE'
                  ? 'PAYLOAD_TOO_LARGE'
                  : 'EXECUTOR_FAILED',
              message: `layer ${layer.layer}: expert${experts.length > 1 ? 's' : ''} ${experts.join(', ')} unreachable at function ${fn.name} (${replicas} replica${replicas > 1 ? 's' : ''}) after ${attempts} attempt${attempts > 1 ? 's' : ''} (${retries} retries); last error: ${describeError(lastError)}`,
              cause: lastError,
              location: fn.name,
              layer: layer.layer,
              experts,
            }),
          );
          return;
        } finally {
          if (!counted) outstanding--;
          // The request bytes go back to the pool once no attempt of this mini-batch can read them.
          if (settled && outstanding === 0 && payload && !payloadReleased) {
            payloadReleased = true;
            context.pool.give(payload);
          }
          if (attemptTimer) clearTimeout(attemptTimer);
          controllers.delete(controller);
          if (release) {
            context.inFlight.set(functionName, (context.inFlight.get(functionName) ?? 1) - 1);
            release();
          }
        }
      };
      void launch(false);
    });

  try {
    const results = await Promise.allSettled(
      batches.map((batch) =>
        runBatch(batch).catch((error: unknown) => {
          abortLayer(error);
          throw error;
        }),
      ),
    );
    if (layerController.signal.aborted) throw layerController.signal.reason;
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw (failure as PromiseRejectedResult).reason;
  } finally {
    if (deadline) clearTimeout(deadline);
    input.signal?.removeEventListener('abort', onCallerAbort);
  }
  const output = combinerOf().finish(layer.layer);
  stats.wallMs = now() - started;
  stats.experts = [...expertStats.values()];
  context.onEvent?.({ type: 'layer', stats });
  return { output, stats };
}
