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
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { decodeExpertMessage, encodeExpertMessage, median, wireMessageBytes } from '@switchyard/core';
import { decodeEnvelope, encodeEnvelope, envelopeBytes } from '@switchyard/expert-function/internal';
import {
  type FunctionRunner,
  type LocalRuntime,
  localCodeBucket,
  startLocalRuntime,
} from '@switchyard/lambda-local';
import { createExpertRunner } from '@switchyard/model';
import { deployPlan } from '../src/deploy/deploy-plan.js';
import { LambdaExecutor } from '../src/executor/lambda-executor.js';
import { benchExpert, benchPlan, credentials, hiddenSize, intermediateSize, time } from './common.js';

const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 8;
const tokens = 1024;
const threads = Math.min(2, availableParallelism());
const memoryMB = 3538; // 2 vCPUs on Lambda: two onnxruntime threads, no duration scaling

const { graph, random } = benchExpert();
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

// 3. Through the local runtime, once per runner (aws-lambda-ric over the Runtime API, and the own
// runner over a socket pair), interleaved run by run so both see the same machine load.
interface Measured {
  latencyMs: number[];
  durationMs: number[];
  coldInitMs: number | undefined;
  responseBytes: number;
}
interface RunnerSetup {
  runner: FunctionRunner;
  runtime: LocalRuntime;
  executor: LambdaExecutor;
  stageDir: string;
  echo: Measured;
  expert: Measured;
}

const plan = benchPlan(graph.byteLength, tokens, memoryMB, ['expert-r0']);

const emptyMeasured = (): Measured => ({
  latencyMs: [],
  durationMs: [],
  coldInitMs: undefined,
  responseBytes: 0,
});

async function setUp(runner: FunctionRunner): Promise<RunnerSetup> {
  const runtime = await startLocalRuntime({ cpuEmulation: 'threads', runner });
  const stageDir = mkdtempSync(join(tmpdir(), `switchyard-bench-${runner}-`));
  const echoDir = join(stageDir, 'echo');
  mkdirSync(echoDir);
  writeFileSync(join(echoDir, 'index.mjs'), 'export const handler = async (event) => event;\n');
  const admin = new LambdaClient({ endpoint: runtime.endpoint, region: 'us-east-1', credentials });
  await admin.send(
    new CreateFunctionCommand({
      FunctionName: 'echo',
      Runtime: 'nodejs22.x',
      Role: 'r',
      Handler: 'index.handler',
      MemorySize: memoryMB,
      Timeout: 60,
      Code: { S3Bucket: localCodeBucket, S3Key: echoDir },
    }),
  );
  admin.destroy();
  await deployPlan(plan, {
    target: 'local',
    endpoint: runtime.endpoint,
    graphs: () => graph,
    stageDir,
    credentials,
  });
  const executor = new LambdaExecutor({ endpoint: runtime.endpoint, credentials, timeoutMs: 120_000 });
  return {
    runner: runtime.runner,
    runtime,
    executor,
    stageDir,
    echo: emptyMeasured(),
    expert: emptyMeasured(),
  };
}

async function invokeInto(
  setup: RunnerSetup,
  functionName: 'echo' | 'expert-r0',
  cold: boolean,
): Promise<void> {
  // The echo function is created here without a version or alias; the expert's `live` is deployPlan's.
  const qualifier = functionName === 'echo' ? '$LATEST' : undefined;
  const result = await setup.executor.invoke({ functionName, payload: wire, qualifier });
  const measured = functionName === 'echo' ? setup.echo : setup.expert;
  measured.responseBytes = result.payload.byteLength;
  if (cold) {
    measured.coldInitMs = result.billing.initDurationMs;
    return;
  }
  measured.latencyMs.push(result.latencyMs);
  measured.durationMs.push(result.billing.durationMs);
}

const loadBefore = loadavg();
const setups: RunnerSetup[] = [];
try {
  for (const runner of ['ric', 'own'] as const) setups.push(await setUp(runner));
  if (setups[0]?.runner !== 'ric') {
    console.log(
      'aws-lambda-ric is not available here (see the warning above): both columns use the own runner',
    );
  }
  // Cold starts first (reported as Init Duration), then warm invokes interleaved across runners.
  for (const name of ['echo', 'expert-r0'] as const)
    for (const setup of setups) await invokeInto(setup, name, true);
  for (let i = 0; i < runs; i++) {
    for (const name of ['echo', 'expert-r0'] as const)
      for (const setup of setups) await invokeInto(setup, name, false);
  }
  const loadAfter = loadavg();

  const compute = median(computeMs);
  const shared = [
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
  ];
  const [ric, own] = setups as [RunnerSetup, RunnerSetup];
  const row = (measure: string, pick: (setup: RunnerSetup) => number | undefined) => {
    const ricMs = pick(ric);
    const ownMs = pick(own);
    return {
      measure,
      [`${ric.runner} ms`]: ricMs,
      [`${own.runner} ms`]: ownMs,
      'ric / own': ricMs !== undefined && ownMs !== undefined ? ricMs / ownMs : undefined,
      'ric × compute': ricMs !== undefined ? ricMs / compute : undefined,
    };
  };
  const runnerRows = [
    row('echo invoke round trip (HTTP + process hop, 2 × 5.6 MB)', (s) => median(s.echo.latencyMs)),
    row('echo invoke, REPORT Duration', (s) => median(s.echo.durationMs)),
    row('expert invoke, REPORT Duration', (s) => median(s.expert.durationMs)),
    row('expert invoke, caller latency', (s) => median(s.expert.latencyMs)),
    row('expert invoke, caller latency (minimum)', (s) => Math.min(...s.expert.latencyMs)),
    row('overhead = caller latency − in-process compute', (s) => median(s.expert.latencyMs) - compute),
    row('echo cold start, Init Duration', (s) => s.echo.coldInitMs),
    row('expert cold start, Init Duration (loads the graph)', (s) => s.expert.coldInitMs),
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
      bytes: envelopeBytes(f32Wire),
      vsRaw: envelopeBytes(f32Wire) / wire.byteLength,
    },
  ];
  const load = {
    before: loadBefore.map((x) => Number(x.toFixed(2))),
    after: loadAfter.map((x) => Number(x.toFixed(2))),
  };
  console.log(
    `Local Lambda runtime overhead: ${tokens} tokens × hidden ${hiddenSize}, f16 wire, SwiGLU I=${intermediateSize}, ${threads} threads, ${runs} runs (medians); load average before ${load.before.join(' ')}, after ${load.after.join(' ')}`,
  );
  console.table(shared);
  console.table(runnerRows);
  console.table(bytes);
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  mkdirSync(join(root, 'bench-results'), { recursive: true });
  const out = join(root, 'bench-results', 'lambda-executor-overhead.json');
  const raw = {
    computeMs,
    encodeMs,
    decodeMs,
    runners: Object.fromEntries(setups.map((s) => [s.runner, { echo: s.echo, expert: s.expert }])),
  };
  writeFileSync(
    out,
    `${JSON.stringify({ benchmark: 'lambda-executor-overhead', date: new Date().toISOString(), tokens, hiddenSize, intermediateSize, threads, memoryMB, runs, node: process.version, loadAverage: load, rows: shared, runnerRows, bytes, raw }, null, 2)}\n`,
  );
  console.log(`wrote ${out}`);
} finally {
  for (const setup of setups) {
    await setup.executor.close();
    await setup.runtime.stop();
    rmSync(setup.stageDir, { recursive: true, force: true });
  }
}
