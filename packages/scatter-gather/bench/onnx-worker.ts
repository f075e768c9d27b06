/**
 * A worker thread that plays the expert functions: it holds one onnxruntime session per expert and
 * answers wire requests (decode + checksum, run each segment's expert, encode + checksum). The
 * request buffer arrives transferred (no copy) and the response is written back into it and
 * transferred back; onnxruntime reads the request rows in place and writes into a reused output
 * buffer, so steady-state serving allocates no large memory. onnxruntime-node's `run` holds the
 * calling thread for the whole inference, so compute must live off the orchestrator's thread for
 * scatter-gather to overlap with it — as it does with real functions.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decodeExpertMessage, draftExpertMessage } from '@switchyard/core';
import * as ort from 'onnxruntime-node';
import { threadCpuMs } from './thread-cpu.js';

interface WorkerInput {
  graphs: { expert: number; bytes: Uint8Array }[];
  threads: number;
}

export interface WorkerRequest {
  id: number;
  buffer: ArrayBuffer;
  byteLength: number;
}

export interface WorkerAnswer {
  id: number;
  buffer?: ArrayBuffer;
  byteLength?: number;
  /** Σ session.run time of this request's segments. */
  computeMs?: number;
  /** The same runs' CPU time on this thread (session.run computes on the calling thread at 1 thread). */
  computeCpuMs?: number;
  /** Wire decode (header, checksum) and encode (copy, checksum) on the function side. */
  decodeMs?: number;
  encodeMs?: number;
  /** Wall-clock (epoch ms) start of the first and end of the last session.run of the request. */
  computeStartedAt?: number;
  computeEndedAt?: number;
  error?: string;
}

const input = workerData as WorkerInput;
const sessions = new Map<number, ort.InferenceSession>();
for (const graph of input.graphs) {
  sessions.set(
    graph.expert,
    await ort.InferenceSession.create(graph.bytes, {
      intraOpNumThreads: input.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    }),
  );
}

let scratch = new Float32Array(0);

// One request at a time, like one function instance: compute times then do not overlap.
let queue: Promise<void> = Promise.resolve();
parentPort!.on('message', (message: WorkerRequest) => {
  queue = queue.then(() => serve(message));
});

async function serve(message: WorkerRequest): Promise<void> {
  try {
    const bytes = new Uint8Array(message.buffer, 0, message.byteLength);
    const decodeStarted = performance.now();
    const request = decodeExpertMessage(bytes, { view: true });
    const decodeMs = performance.now() - decodeStarted;
    const values = request.activations.length;
    if (scratch.length < values) scratch = new Float32Array(values);
    let offset = 0;
    let computeMs = 0;
    let computeCpuMs = 0;
    let computeStartedAt = 0;
    let computeEndedAt = 0;
    for (const [i, expert] of request.expertIds.entries()) {
      const rows = request.tokenCounts[i]!;
      const length = rows * request.hiddenSize;
      const shape = [rows, request.hiddenSize];
      const cpuStarted = threadCpuMs() ?? 0;
      const started = performance.now();
      if (computeStartedAt === 0) computeStartedAt = performance.timeOrigin + started;
      await sessions.get(expert)!.run(
        {
          hidden_states: new ort.Tensor(
            'float32',
            request.activations.subarray(offset, offset + length),
            shape,
          ),
        },
        { expert_output: new ort.Tensor('float32', scratch.subarray(offset, offset + length), shape) },
      );
      const ended = performance.now();
      computeMs += ended - started;
      computeCpuMs += (threadCpuMs() ?? 0) - cpuStarted;
      computeEndedAt = performance.timeOrigin + ended;
      offset += length;
    }
    // The request rows are consumed: the response (same layout and size) overwrites them in place.
    const encodeStarted = performance.now();
    const draft = draftExpertMessage({ ...request, kind: 'response' }, { target: bytes });
    draft.activations.set(scratch.subarray(0, values));
    draft.finish();
    const encodeMs = performance.now() - encodeStarted;
    const answer: WorkerAnswer = {
      id: message.id,
      buffer: message.buffer,
      byteLength: message.byteLength,
      computeMs,
      computeCpuMs,
      decodeMs,
      encodeMs,
      computeStartedAt,
      computeEndedAt,
    };
    parentPort!.postMessage(answer, [message.buffer]);
  } catch (error) {
    parentPort!.postMessage({ id: message.id, error: (error as Error).message } satisfies WorkerAnswer);
  }
}
parentPort!.postMessage({ ready: true });
