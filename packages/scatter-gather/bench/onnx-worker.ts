/**
 * A worker thread that plays the expert functions: it holds one onnxruntime session per expert and
 * answers wire requests (decode, run each segment's expert, encode). onnxruntime-node's `run` holds
 * the calling thread for the whole inference, so compute must live off the orchestrator's thread
 * for scatter-gather to overlap with it — as it does with real functions.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decodeExpertMessage, encodeExpertMessage } from '@switchyard/core';
import * as ort from 'onnxruntime-node';

interface WorkerInput {
  graphs: { expert: number; bytes: Uint8Array }[];
  threads: number;
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

// One request at a time, like one function instance: compute times then do not overlap.
let queue: Promise<void> = Promise.resolve();
parentPort!.on('message', (message: { id: number; payload: Uint8Array }) => {
  queue = queue.then(() => serve(message));
});

async function serve(message: { id: number; payload: Uint8Array }): Promise<void> {
  try {
    const request = decodeExpertMessage(message.payload);
    const output = new Float32Array(request.activations.length);
    let offset = 0;
    let computeMs = 0;
    for (const [i, expert] of request.expertIds.entries()) {
      const rows = request.tokenCounts[i]!;
      const length = rows * request.hiddenSize;
      const started = performance.now();
      const result = await sessions.get(expert)!.run({
        hidden_states: new ort.Tensor('float32', request.activations.subarray(offset, offset + length), [
          rows,
          request.hiddenSize,
        ]),
      });
      computeMs += performance.now() - started;
      output.set(result.expert_output!.data as Float32Array, offset);
      offset += length;
    }
    const payload = encodeExpertMessage({ ...request, kind: 'response', activations: output });
    parentPort!.postMessage({ id: message.id, payload, computeMs }, [payload.buffer as ArrayBuffer]);
  } catch (error) {
    parentPort!.postMessage({ id: message.id, error: (error as Error).message });
  }
}
parentPort!.postMessage({ ready: true });
