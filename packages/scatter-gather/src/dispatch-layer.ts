import { setMaxListeners } from 'node:events';
import {
  groupTokensByExpert,
  type Logger,
  type MoeStepRequest,
  noopLogger,
  type PlanLayer,
  type TransportMethod,
} from '@switchyard/core';
import type { BufferPool } from './buffer-pool.js';
import { ScatterGatherError } from './errors.js';
import type { LayerStats, ScatterGatherEvent } from './events.js';
import type { LatencyWindow } from './latency-window.js';
import { LayerStatsRecorder } from './layer-stats.js';
import type { Limiter } from './limiter.js';
import { MiniBatchCodec } from './mini-batch-codec.js';
import { MiniBatchRun } from './mini-batch-run.js';
import type { ResolvedScatterGatherOptions } from './options.js';
import { partitionLayer } from './partition.js';
import { maxDirectTokens, type Transport } from './transport.js';

export interface DispatchContext {
  options: ResolvedScatterGatherOptions;
  transports: Partial<Record<TransportMethod, Transport>>;
  limiter: Limiter;
  inFlight: Map<string, number>;
  latencies: (layer: number) => LatencyWindow;
  onEvent?: ((event: ScatterGatherEvent) => void) | undefined;
  logger?: Logger | undefined;
  /** Distinguishes attempt keys across calls (object keys). */
  callId: string;
  /** Request message buffers, reused across mini-batches and calls. */
  pool: BufferPool;
}

/** A `MoeStepRequest` with its layer's plan and the model's expert count. */
export type DispatchLayerInput = Omit<MoeStepRequest, 'layer'> & { layer: PlanLayer; numExperts: number };

export interface DispatchLayerResult {
  /**
   * Weighted sum of the routed experts' outputs [T × H], bit-identical to core's
   * `combineExpertOutputs` over the same expert rows (folded as mini-batches arrive).
   */
  output: Float32Array;
  stats: LayerStats;
}

/**
 * Scatters one MoE layer's routed tokens to the plan's expert functions and gathers the weighted
 * sum of their outputs. Mini-batches are encoded (rows gathered straight into a pooled wire buffer)
 * just before they are sent, dispatched concurrently, and their rows folded into the layer output
 * the moment they arrive; each mini-batch is folded exactly once no matter how many retries or
 * hedged duplicates it took (`MiniBatchRun`).
 */
export async function dispatchLayer(
  input: DispatchLayerInput,
  context: DispatchContext,
): Promise<DispatchLayerResult> {
  const started = performance.now();
  const { options } = context;
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
  const batches = partitionLayer({
    layer,
    expertTokenCounts: counts,
    maxTokensPerBatch: maxTokensPerBatch(method, beta, layer, hiddenSize, options),
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
  checkOutputBuffer(input, layer.layer);
  const codec = new MiniBatchCodec({
    layer: layer.layer,
    hiddenSize,
    numTokens: input.numTokens,
    topK: input.topK,
    hiddenStates: input.hiddenStates,
    topkWeights: input.topkWeights,
    output: input.output,
    groups,
    options,
    pool: context.pool,
  });
  const recorder = new LayerStatsRecorder({
    layer: layer.layer,
    method,
    beta,
    numTokens: input.numTokens,
    expertTokenCounts: counts,
    miniBatches: batches.length,
  });
  const scope = layerAbortScope(layer.layer, input.signal, options.layerDeadlineMs);
  const call = {
    layer: layer.layer,
    functions: layer.functions,
    options,
    transport,
    codec,
    recorder,
    latencies: context.latencies(layer.layer),
    limiter: context.limiter,
    inFlight: context.inFlight,
    pool: context.pool,
    signal: scope.signal,
    callId: context.callId,
    onEvent: context.onEvent,
    logger: context.logger ?? noopLogger,
  };
  try {
    const results = await Promise.allSettled(
      batches.map((batch) =>
        new MiniBatchRun(call, batch).run().catch((error: unknown) => {
          scope.abort(error);
          throw error;
        }),
      ),
    );
    if (scope.signal.aborted) throw scope.signal.reason;
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw (failure as PromiseRejectedResult).reason;
  } finally {
    scope.dispose();
  }
  const output = codec.finish();
  const stats = recorder.finish(performance.now() - started);
  context.onEvent?.({ type: 'layer', stats });
  return { output, stats };
}

/** `MoeStepRequest.output`, when given: exactly T × H values, not overlapping the hidden states. */
function checkOutputBuffer(input: DispatchLayerInput, layer: number): void {
  const { output, hiddenStates } = input;
  if (!output) return;
  if (output.length !== input.numTokens * input.hiddenSize) {
    throw new ScatterGatherError({
      code: 'INVALID_INPUT',
      message: `output holds ${output.length} values, expected ${input.numTokens} × ${input.hiddenSize}`,
      location: 'MoeStepRequest.output',
      layer,
    });
  }
  const overlaps =
    output.buffer === hiddenStates.buffer &&
    output.byteOffset < hiddenStates.byteOffset + hiddenStates.byteLength &&
    hiddenStates.byteOffset < output.byteOffset + output.byteLength;
  if (overlaps) {
    throw new ScatterGatherError({
      code: 'INVALID_INPUT',
      message: 'output overlaps hiddenStates: the rows are still being read while the output is written',
      location: 'MoeStepRequest.output',
      layer,
    });
  }
}

/**
 * Largest mini-batch in tokens. Only paper method 1 (`s3-pipelined`) cuts at β, the pipeline degree;
 * methods 2 (`s3`) and 3 (`direct`) are not pipelined (architecture/paper.md, "Scatter-gather"): one
 * invocation per replica, as the cost model bills them, `direct` cut further only where a replica's
 * rows would exceed the payload limit.
 */
function maxTokensPerBatch(
  method: TransportMethod,
  beta: number,
  layer: PlanLayer,
  hiddenSize: number,
  options: ResolvedScatterGatherOptions,
): number {
  const payloadCap =
    method === 'direct'
      ? maxDirectTokens({
          hiddenSize,
          segments: Math.max(...layer.functions.map((fn) => fn.experts.length)),
          dtype: options.wireDtype,
          limitBytes: options.payloadLimitBytes,
          envelopeOverheadBytes: options.envelopeOverheadBytes,
        })
      : Number.POSITIVE_INFINITY;
  return method === 's3-pipelined' ? Math.min(beta, payloadCap) : payloadCap;
}

/**
 * One abort signal for the whole layer call: the caller's signal, the layer deadline, or a
 * mini-batch's fatal error (`abort`), whichever comes first. `dispose` detaches from the caller.
 */
function layerAbortScope(
  layer: number,
  callerSignal: AbortSignal | undefined,
  deadlineMs: number | undefined,
): { signal: AbortSignal; abort: (reason: unknown) => void; dispose: () => void } {
  const controller = new AbortController();
  // Every in-flight mini-batch listens to the layer signal.
  setMaxListeners(0, controller.signal);
  const abort = (reason: unknown): void => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  const onCallerAbort = (): void =>
    abort(
      new ScatterGatherError({
        code: 'ABORTED',
        message: `layer ${layer} scatter-gather was cancelled`,
        cause: callerSignal?.reason,
        layer,
      }),
    );
  if (callerSignal?.aborted) onCallerAbort();
  callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
  const deadline =
    deadlineMs === undefined
      ? undefined
      : setTimeout(
          () =>
            abort(
              new ScatterGatherError({
                code: 'TIMEOUT',
                message: `layer ${layer} missed its ${deadlineMs} ms deadline`,
                layer,
                retryable: true,
              }),
            ),
          deadlineMs,
        );
  return {
    signal: controller.signal,
    abort,
    dispose: () => {
      if (deadline) clearTimeout(deadline);
      callerSignal?.removeEventListener('abort', onCallerAbort);
    },
  };
}
