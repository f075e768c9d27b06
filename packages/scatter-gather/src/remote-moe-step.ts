import { S3Client } from '@aws-sdk/client-s3';
import {
  type DeploymentPlan,
  type Executor,
  type Logger,
  type MoeStep,
  type MoeStepRequest,
  type PlanLayer,
  parseWithSchema,
} from '@switchyard/core';
import { BufferPool } from './buffer-pool.js';
import { type DispatchContext, dispatchLayer } from './dispatch-layer.js';
import { ScatterGatherError } from './errors.js';
import { addToSummary, emptySummary, type ScatterGatherEvent, type ScatterGatherSummary } from './events.js';
import { LatencyWindow } from './latency-window.js';
import { Limiter } from './limiter.js';
import { type ScatterGatherOptions, scatterGatherOptionsSchema } from './options.js';
import { createS3Transport, type S3TransportClient } from './s3-transport.js';
import { createDirectTransport } from './transport.js';

export interface RemoteMoeStepOptions extends ScatterGatherOptions {
  plan: DeploymentPlan;
  executor: Executor;
  /**
   * S3 client for the object-storage methods (an `S3Client` from @aws-sdk/client-s3); without it,
   * one is built from the `s3` options (endpoint, region, credentials).
   */
  s3Client?: S3TransportClient;
  onEvent?: (event: ScatterGatherEvent) => void;
  logger?: Logger;
}

export interface RemoteMoeStep extends MoeStep {
  /** Running totals over every call so far. */
  summary(): ScatterGatherSummary;
}

let callCounter = 0;

/**
 * A `MoeStep` that runs the routed experts on the plan's deployed functions through `executor`,
 * so the model runtime keeps the dense part in process and ships only expert FFNs.
 */
export function createRemoteMoeStep(options: RemoteMoeStepOptions): RemoteMoeStep {
  const { plan, executor, onEvent, logger } = options;
  const resolved = parseWithSchema(scatterGatherOptionsSchema, options, 'scatter-gather options');
  const s3Options = resolved.s3;
  // The AWS SDK's config resolvers are not ours to reason about: keys are set only when given.
  const s3Client: S3TransportClient | undefined =
    options.s3Client ??
    (s3Options
      ? new S3Client({
          region: s3Options.region,
          ...(s3Options.endpoint ? { endpoint: s3Options.endpoint } : {}),
          forcePathStyle: s3Options.forcePathStyle ?? s3Options.endpoint !== undefined,
          ...(s3Options.credentials ? { credentials: s3Options.credentials } : {}),
        })
      : undefined);
  const layers = new Map<number, PlanLayer>(plan.layers.map((layer) => [layer.layer, layer]));
  const windows = new Map<number, LatencyWindow>();
  const summary = emptySummary();
  const context: DispatchContext = {
    options: resolved,
    transports: {
      direct: createDirectTransport(executor),
      ...(s3Options && s3Client
        ? (() => {
            const transport = createS3Transport({ executor, client: s3Client, ...s3Options });
            return { s3: transport, 's3-pipelined': transport };
          })()
        : {}),
    },
    limiter: new Limiter(resolved.maxInFlight, resolved.maxInFlightPerReplica),
    inFlight: new Map(),
    latencies: (layer) => {
      let window = windows.get(layer);
      if (!window) {
        window = new LatencyWindow();
        windows.set(layer, window);
      }
      return window;
    },
    onEvent,
    logger,
    callId: '',
    pool: new BufferPool(),
  };
  const step = async (request: MoeStepRequest): Promise<Float32Array> => {
    const layer = layers.get(request.layer);
    if (!layer) {
      throw new ScatterGatherError({
        code: 'PLAN_INVALID',
        message: `the deployment plan has no entry for MoE layer ${request.layer} (it covers ${[...layers.keys()].join(', ')})`,
        layer: request.layer,
      });
    }
    callCounter = (callCounter + 1) % 1e9;
    const result = await dispatchLayer(
      { ...request, layer, numExperts: plan.model.numExperts },
      { ...context, callId: `${process.pid}-${Date.now().toString(36)}-${callCounter}` },
    );
    addToSummary(summary, result.stats);
    return result.output;
  };
  return Object.assign(step, { summary: () => structuredClone(summary) });
}
