import { Worker } from 'node:worker_threads';
import {
  type DeploymentPlan,
  type Executor,
  type InvokeRequest,
  type InvokeResult,
  SwitchyardError,
} from '@switchyard/core';

export interface WorkerExecutor extends Executor {
  /** Σ onnxruntime run time across workers since the last reset, ms. */
  computeMs(): number;
  resetComputeMs(): void;
  close(): Promise<void>;
}

/**
 * In-process executor over `lanes` worker threads, each holding every expert's session (one layer's
 * experts; the plan's functions all map to them). One lane = a single compute device, so the
 * critical path of expert compute is the sum of compute times.
 */
export async function createWorkerExecutor(options: {
  plan: DeploymentPlan;
  graphs: Uint8Array[];
  lanes: number;
  threads?: number;
}): Promise<WorkerExecutor> {
  const known = new Set(options.plan.layers.flatMap((l) => l.functions.flatMap((f) => f.functionNames)));
  const workers = await Promise.all(
    Array.from({ length: options.lanes }, async () => {
      const worker = new Worker(new URL('./onnx-worker-bootstrap.mjs', import.meta.url), {
        workerData: {
          graphs: options.graphs.map((bytes, expert) => ({ expert, bytes })),
          threads: options.threads ?? 1,
        },
      });
      await new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
      });
      return { worker, queued: 0 };
    }),
  );
  const pending = new Map<
    number,
    (answer: { payload?: Uint8Array; computeMs?: number; error?: string }) => void
  >();
  for (const { worker } of workers) {
    worker.on(
      'message',
      (answer: { id: number; payload?: Uint8Array; computeMs?: number; error?: string }) => {
        pending.get(answer.id)?.(answer);
        pending.delete(answer.id);
      },
    );
  }
  let nextId = 0;
  let computeMs = 0;
  return {
    computeMs: () => computeMs,
    resetComputeMs: () => {
      computeMs = 0;
    },
    async invoke(request: InvokeRequest): Promise<InvokeResult> {
      if (!known.has(request.functionName)) {
        throw new SwitchyardError({ code: 'NOT_FOUND', message: `no function ${request.functionName}` });
      }
      const started = performance.now();
      const lane = workers.reduce((best, w) => (w.queued < best.queued ? w : best));
      lane.queued++;
      const id = nextId++;
      const payload = request.payload.slice();
      const answer = await new Promise<{ payload?: Uint8Array; computeMs?: number; error?: string }>(
        (resolve) => {
          pending.set(id, resolve);
          lane.worker.postMessage({ id, payload }, [payload.buffer]);
        },
      );
      lane.queued--;
      if (answer.error || !answer.payload) {
        throw new SwitchyardError({ code: 'FUNCTION_ERROR', message: answer.error ?? 'no payload' });
      }
      computeMs += answer.computeMs ?? 0;
      const latencyMs = performance.now() - started;
      return {
        payload: answer.payload,
        latencyMs,
        billing: {
          requestId: `w${id}`,
          durationMs: answer.computeMs ?? 0,
          billedDurationMs: Math.max(1, Math.ceil(latencyMs)),
          memorySizeMB: 1769,
          maxMemoryUsedMB: 0,
        },
      };
    },
    async close() {
      await Promise.all(workers.map(({ worker }) => worker.terminate()));
    },
  };
}
