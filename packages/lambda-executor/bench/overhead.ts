/**
 * Per-invocation overhead of the local Lambda runtime for one expert batch of 1,024 tokens × hidden
 * 2048 in f16 (SwiGLU expert, intermediate 1408): HTTP, process hop, base64 envelope and wire
 * encode/decode, against the expert's compute time measured in process in the same run.
 *
 *   node --conditions=@switchyard/source --import tsx bench/overhead.ts [--runs 8]
 *
 * Prints a table and writes bench-results/lambda-executor-overhead.json at the repository root.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { decodeExpertMessage, encodeExpertMessage, wireMessageBytes } from '@switchyard/core';
import { buildSwigluGraph, createExpertRunner } from '@switchyard/model';
import { deployPlan } from '../src/deploy/deploy.js';
import { decodeEnvelope, encodeEnvelope } from '../src/executor/envelope.js';
import { LambdaExecutor } from '../src/executor/lambda-executor.js';
import { localCodeBucket, startLocalRuntime } from '../src/runtime/local-runtime.js';

const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 8;
const tokens = 1024;
const hiddenSize = 2048;
const intermediateSize = 1408;
const threads = Math.min(2, availableParallelism());
const memoryMB = 3538; // 2 vCPUs on Lambda: two onnxruntime threads, no duration scaling
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296 - 0.5;
  };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

async function time<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

const random = seeded(2026);
const scale = 1 / Math.sqrt(hiddenSize);
const weights = (n: number): Float32Array => Float32Array.from({ length: n }, () => random() * 2 * scale);
const graph = buildSwigluGraph(
  {
    hiddenSize,
    intermediateSize,
    gate: weights(intermediateSize * hiddenSize),
    up: weights(intermediateSize * hiddenSize),
    down: weights(hiddenSize * intermediateSize),
  },
  'bench_expert',
);
const activations = Float32Array.from({ length: tokens * hiddenSize }, () => random());

// 1. In-process expert compute (same threads and session options as the function).
const runner = await createExpertRunner(graph, { threads });
await runner.run(activations, tokens);
const computeMs: number[] = [];
for (let i = 0; i < runs; i++) computeMs.push((await time(() => runner.run(activations, tokens))).ms);
await runner.close();

// 2. Encode/decode costs on the orchestrator side.
const message = {
  kind: 'request' as const,
  dtype: 'f16' as const,
  layer: 0,
  sequence: 1,
  hiddenSize,
  expertIds: [0],
  tokenCounts: [tokens],
  activations,
};
const encodeMs: number[] = [];
const decodeMs: number[] = [];
let wire: Uint8Array = new Uint8Array();
let envelope: Uint8Array = new Uint8Array();
for (let i = 0; i < runs; i++) {
  encodeMs.push(
    (
      await time(() => {
        wire = encodeExpertMessage(message);
        envelope = encodeEnvelope(wire);
      })
    ).ms,
  );
  decodeMs.push((await time(() => decodeExpertMessage(decodeEnvelope(envelope)))).ms);
}
const f32Wire = wireMessageBytes(1, tokens, hiddenSize, 'f32');

// 3. Through the local runtime: an echo function (transport only) and the deployed expert.
const runtime = await startLocalRuntime({ cpuEmulation: 'threads' });
const stageDir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
try {
  const echoDir = join(stageDir, 'echo');
  mkdirSync(echoDir);
  writeFileSync(join(echoDir, 'index.mjs'), 'export const handler = async (event) => event;\n');
  const admin = new LambdaClient({ endpoint: runtime.endpoint, region: 'us-east-1', credentials });
  await admin.send(
    new CreateFunctionCommand({
      FunctionName: 'echo',
      Role: 'r',
      Handler: 'index.handler',
      MemorySize: memoryMB,
      Timeout: 60,
      Code: { S3Bucket: localCodeBucket, S3Key: echoDir },
    }),
  );
  admin.destroy();
  await deployPlan(
    {
      kind: 'switchyard.deployment-plan',
      version: 1,
      createdAt: '2026-11-28T00:00:00Z',
      strategy: 'manual',
      model: {
        name: 'bench',
        fingerprint: 'bench',
        architecture: 'mixtral',
        hiddenSize,
        expertIntermediateSize: intermediateSize,
        numExperts: 1,
        topK: 1,
        bytesPerExpert: graph.byteLength,
      },
      workload: { tokensPerBatch: tokens, sloMs: 10_000, wireDtype: 'f16' },
      priceTable: { version: 'bench', date: '2026-11-28' },
      layers: [
        {
          layer: 0,
          method: 'direct',
          beta: tokens,
          functions: [{ name: 'expert', experts: [0], memoryMB, replicas: 1, functionNames: ['expert-r0'] }],
          experts: [
            {
              expert: 0,
              functionIndex: 0,
              predictedTokens: tokens,
              predictedTokensLow: tokens,
              predictedTokensHigh: tokens,
            },
          ],
        },
      ],
      predicted: { costUsdPerBatch: 0, latencyMs: 0, computeUsd: 0, requestUsd: 0, sloMet: true },
    },
    { target: 'local', endpoint: runtime.endpoint, graphs: () => graph, stageDir, credentials },
  );
  const executor = new LambdaExecutor({ endpoint: runtime.endpoint, credentials, timeoutMs: 120_000 });
  const measure = async (
    functionName: string,
  ): Promise<{ latencyMs: number[]; durationMs: number[]; responseBytes: number }> => {
    const latencyMs: number[] = [];
    const durationMs: number[] = [];
    let responseBytes = 0;
    await executor.invoke({ functionName, payload: wire }); // cold start, not measured
    for (let i = 0; i < runs; i++) {
      const result = await executor.invoke({ functionName, payload: wire });
      latencyMs.push(result.latencyMs);
      durationMs.push(result.billing.durationMs);
      responseBytes = result.payload.byteLength;
    }
    return { latencyMs, durationMs, responseBytes };
  };
  const echo = await measure('echo');
  const expert = await measure('expert-r0');
  await executor.close();

  const compute = median(computeMs);
  const expertLatency = median(expert.latencyMs);
  const expertDuration = median(expert.durationMs);
  const rows = [
    { measure: 'expert compute in process (onnxruntime)', ms: compute, shareOfCompute: 1 },
    {
      measure: 'encode f16 wire + base64 envelope (orchestrator)',
      ms: median(encodeMs),
      shareOfCompute: median(encodeMs) / compute,
    },
    {
      measure: 'decode envelope + f16 wire (orchestrator)',
      ms: median(decodeMs),
      shareOfCompute: median(decodeMs) / compute,
    },
    {
      measure: 'echo invoke round trip (HTTP + process hop, 2 × 5.6 MB)',
      ms: median(echo.latencyMs),
      shareOfCompute: median(echo.latencyMs) / compute,
    },
    {
      measure: 'expert invoke, REPORT Duration (in-function)',
      ms: expertDuration,
      shareOfCompute: expertDuration / compute,
    },
    { measure: 'expert invoke, caller latency', ms: expertLatency, shareOfCompute: expertLatency / compute },
    {
      measure: 'overhead = caller latency − in-process compute',
      ms: expertLatency - compute,
      shareOfCompute: (expertLatency - compute) / compute,
    },
  ];
  const bytes = [
    { payload: 'wire f16 (raw binary)', bytes: wire.byteLength, vsRaw: 1 },
    {
      payload: 'wire f16 in base64 JSON envelope',
      bytes: envelope.byteLength,
      vsRaw: envelope.byteLength / wire.byteLength,
    },
    { payload: 'wire f32 (raw binary)', bytes: f32Wire, vsRaw: f32Wire / wire.byteLength },
    {
      payload: 'wire f32 in envelope (over the 6 MB limit)',
      bytes: Math.ceil(f32Wire / 3) * 4 + 31,
      vsRaw: (Math.ceil(f32Wire / 3) * 4 + 31) / wire.byteLength,
    },
  ];
  console.log(
    `Local Lambda runtime overhead: ${tokens} tokens × hidden ${hiddenSize}, f16 wire, SwiGLU I=${intermediateSize}, ${threads} threads, ${runs} runs (medians)`,
  );
  console.table(rows);
  console.table(bytes);
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  mkdirSync(join(root, 'bench-results'), { recursive: true });
  const out = join(root, 'bench-results', 'lambda-executor-overhead.json');
  writeFileSync(
    out,
    `${JSON.stringify({ benchmark: 'lambda-executor-overhead', date: new Date().toISOString(), tokens, hiddenSize, intermediateSize, threads, memoryMB, runs, node: process.version, rows, bytes, raw: { computeMs, encodeMs, decodeMs, echo, expert } }, null, 2)}\n`,
  );
  console.log(`wrote ${out}`);
} finally {
  await runtime.stop();
  rmSync(stageDir, { recursive: true, force: true });
}
