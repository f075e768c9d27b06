import { Worker } from 'node:worker_threads';
import {
  type DeploymentPlan,
  type Executor,
  type InvokeRequest,
  type InvokeResult,
  SwitchyardError,
} from '@switchyard/core';
import { BufferPool } from '../src/buffer-pool.js';
import type { WorkerAnswer, WorkerRequest } from './onnx-worker.js';

/** Per-lane time spent by the worker threads since the last reset, ms. */
export interface LaneTimes {
  /** Σ onnxruntime session.run time. */
  computeMs: number;
  /** Σ CPU time of those runs on the lane's thread (0 where the OS does not tell). */
  computeCpuMs: number;
  /** Function-side wire decode (checksum) and encode (copy + checksum). */
  decodeMs: number;
  encodeMs: number;
  requests: number;
  /** Epoch ms of the lane's first compute start and last compute end since the reset. */
  firstComputeAt: number;
  lastComputeEndAt: number;
}

export interface WorkerExecutor extends Executor {
  /** Σ onnxruntime run time across workers since the last reset, ms. */
  computeMs(): number;
  /** Each lane's times since the last reset; the critical path of expert compute is the max computeMs. */
  laneTimes(): LaneTimes[];
  resetComputeMs(): void;
  close(): Promise<void>;
}

/**
 * In-process executor over `lanes` worker threads, each holding every expert's session (one layer's
 * experts; the plan's functions all map to them). One lane = a single compute device, so the
 * critical path of expert compute is the sum of compute times; with several lanes it is the
 * largest per-lane sum. The request is copied once into a pooled buffer that is transferred to the
 * worker, answered in place and transferred back; `recycle` returns it to the pool.
 */
export async function createWorkerExecutor(options: {
  plan: DeploymentPlan;
  graphs: Uint8Array[];
  lanes: number;
  threads?: number;
}): Promise<WorkerExecutor> {
  const known = new Set(options.plan.layers.flatMap((l) => l.functions.flatMap((f) => f.functionNames)));
  const emptyTimes = (): LaneTimes => ({
    computeMs: 0,
    computeCpuMs: 0,
    decodeMs: 0,
    encodeMs: 0,
    requests: 0,
    firstComputeAt: Number.POSITIVE_INFINITY,
    lastComputeEndAt: 0,
  });
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
      return { worker, queued: 0, times: emptyTimes() };
    }),
  );
  const pending = new Map<number, (answer: WorkerAnswer) => void>();
  for (const { worker } of workers) {
    worker.on('message', (answer: WorkerAnswer) => {
      pending.get(answer.id)?.(answer);
      pending.delete(answer.id);
    });
  }
  const pool = new BufferPool();
  let nextId = 0;
  return {
    computeMs: () => workers.reduce((sum, lane) => sum + lane.times.computeMs, 0),
    laneTimes: () => workers.map((lane) => ({ ...lane.times })),
    resetComputeMs: () => {
      for (const lane of workers) lane.times = emptyTimes();
    },
    async invoke(request: InvokeRequest): Promise<InvokeResult> {
      if (!known.has(request.functionName)) {
        throw new SwitchyardError({ code: 'NOT_FOUND', message: `no function ${request.functionName}` });
      }
      const started = performance.now();
      const lane = workers.reduce((best, w) => (w.queued < best.queued ? w : best));
      lane.queued++;
      const id = nextId++;
      // The caller keeps its payload (a retry may resend it): one memcpy into a transferable buffer.
      const slot = pool.take(request.payload.byteLength);
      slot.set(request.payload);
      const answer = await new Promise<WorkerAnswer>((resolve) => {
        pending.set(id, resolve);
        const message: WorkerRequest = {
          id,
          buffer: slot.buffer as ArrayBuffer,
          byteLength: slot.byteLength,
        };
        lane.worker.postMessage(message, [message.buffer]);
      });
      lane.queued--;
      if (answer.error || !answer.buffer) {
        throw new SwitchyardError({ code: 'FUNCTION_ERROR', message: answer.error ?? 'no payload' });
      }
      lane.times.computeMs += answer.computeMs ?? 0;
      lane.times.computeCpuMs += answer.computeCpuMs ?? 0;
      lane.times.decodeMs += answer.decodeMs ?? 0;
      lane.times.encodeMs += answer.encodeMs ?? 0;
      lane.times.requests++;
      lane.times.firstComputeAt = Math.min(lane.times.firstComputeAt, answer.computeStartedAt ?? Infinity);
      lane.times.lastComputeEndAt = Math.max(lane.times.lastComputeEndAt, answer.computeEndedAt ?? 0);
      const latencyMs = performance.now() - started;
      return {
        payload: new Uint8Array(answer.buffer, 0, answer.byteLength),
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
    recycle(payload: Uint8Array) {
      pool.give(payload);
    },
    async close() {
      // Hedged losers may still be computing: terminating a worker inside onnxruntime's run aborts
      // the process (Napi::Error), so let every request finish first.
      while (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await Promise.all(workers.map(({ worker }) => worker.terminate()));
    },
  };
}
