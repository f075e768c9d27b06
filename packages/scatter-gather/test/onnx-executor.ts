import {
  type DeploymentPlan,
  decodeExpertMessage,
  type Executor,
  encodeExpertMessage,
  type InvokeRequest,
  type InvokeResult,
  SwitchyardError,
} from '@switchyard/core';

/** Runs one expert's FFN over [n, H] rows (an `ExpertRunner` of @switchyard/model). */
export interface RowRunner {
  run(hiddenStates: Float32Array, numTokens: number): Promise<Float32Array>;
}

export interface OnnxExecutorOptions {
  plan: DeploymentPlan;
  /** Runner for (layer, expert). */
  runner: (layer: number, expert: number) => RowRunner;
  /**
   * Serialise all compute on one lane, so the critical path of expert compute is simply the sum of
   * compute durations (what the overhead benchmark subtracts from wall time).
   */
  singleLane?: boolean;
}

export interface OnnxExecutor extends Executor {
  /** Σ time spent inside `runner.run` so far, ms. */
  computeMs(): number;
  resetComputeMs(): void;
}

/**
 * An in-process stand-in for deployed expert functions that runs real ONNX expert graphs: decodes
 * the wire request, runs each segment's expert, encodes the wire response. Used to isolate
 * orchestration overhead from network and process costs; the local Lambda runtime is the real thing.
 */
export function createOnnxExecutor(options: OnnxExecutorOptions): OnnxExecutor {
  const owners = new Map<string, { layer: number; experts: number[] }>();
  for (const layer of options.plan.layers) {
    for (const fn of layer.functions) {
      for (const name of fn.functionNames) owners.set(name, { layer: layer.layer, experts: fn.experts });
    }
  }
  let lane: Promise<unknown> = Promise.resolve();
  let computeMs = 0;
  let calls = 0;
  const compute = <T>(work: () => Promise<T>): Promise<T> => {
    if (!options.singleLane) return work();
    const next = lane.then(work, work);
    lane = next.catch(() => {});
    return next;
  };
  return {
    computeMs: () => computeMs,
    resetComputeMs: () => {
      computeMs = 0;
    },
    async invoke(request: InvokeRequest): Promise<InvokeResult> {
      const started = performance.now();
      const owner = owners.get(request.functionName);
      if (!owner) {
        throw new SwitchyardError({ code: 'NOT_FOUND', message: `no function ${request.functionName}` });
      }
      const message = decodeExpertMessage(request.payload);
      const output = new Float32Array(message.activations.length);
      let functionComputeMs = 0;
      await compute(async () => {
        let offset = 0;
        for (const [i, expert] of message.expertIds.entries()) {
          if (!owner.experts.includes(expert)) {
            throw new SwitchyardError({
              code: 'FUNCTION_ERROR',
              message: `${request.functionName} does not hold expert ${expert}`,
            });
          }
          const rows = message.tokenCounts[i]!;
          const length = rows * message.hiddenSize;
          const computeStarted = performance.now();
          const result = await options
            .runner(message.layer, expert)
            .run(message.activations.subarray(offset, offset + length), rows);
          functionComputeMs += performance.now() - computeStarted;
          output.set(result, offset);
          offset += length;
        }
      });
      computeMs += functionComputeMs;
      const payload = encodeExpertMessage({ ...message, kind: 'response', activations: output });
      const durationMs = performance.now() - started;
      return {
        payload,
        latencyMs: durationMs,
        billing: {
          requestId: `onnx-${calls++}`,
          durationMs: functionComputeMs,
          billedDurationMs: Math.max(1, Math.ceil(durationMs)),
          memorySizeMB: 1024,
          maxMemoryUsedMB: 0,
        },
      };
    },
  };
}
