/**
 * What `expertFunctionEnvironment` (glibc malloc thresholds) buys an expert function: two replicas of
 * one SwiGLU expert (default hidden 2048, intermediate 1408) deployed by `deployPlan` on the local runtime,
 * one as deployed and one with its environment reduced to the deployment marker (glibc defaults).
 * Both get the same seeded sequence of token counts (256–1,024 per call, f16 wire), invoked
 * alternately (which one goes first alternates too), so both see the same machine.
 *
 *   node --conditions=@switchyard/source --import tsx bench/malloc.ts [--runs 40] [--memory 1769]
 *     [--hidden 2048] [--intermediate 1408] [--max-tokens 1024]
 *
 * Prints a table and writes bench-results/lambda-executor-malloc.json at the repository root (one
 * entry per expert shape).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LambdaClient, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { encodeExpertMessage, median } from '@switchyard/core';
import { startLocalRuntime } from '@switchyard/lambda-local';
import { deployPlan } from '../src/deploy/deploy-plan.js';
import { deploymentEnvVar, expertFunctionEnvironment } from '../src/deploy/function-settings.js';
import { LambdaExecutor } from '../src/executor/lambda-executor.js';
import { benchExpert, benchPlan, centredRandom, credentials } from './common.js';

const argument = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(name);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
};
const runs = argument('--runs', 40);
const memoryMB = argument('--memory', 1769);
const maxTokens = argument('--max-tokens', 1024);
const shape = { hiddenSize: argument('--hidden', 2048), intermediateSize: argument('--intermediate', 1408) };
const hiddenSize = shape.hiddenSize;
const functions = { tuned: 'expert-tuned', plain: 'expert-plain' } as const;

const { graph, random } = benchExpert(2026, shape);
const activations = Float32Array.from({ length: maxTokens * hiddenSize }, () => random());
const request = (tokens: number): Uint8Array =>
  encodeExpertMessage({
    kind: 'request',
    dtype: 'f16',
    layer: 0,
    sequence: tokens,
    hiddenSize,
    expertIds: [0],
    tokenCounts: [tokens],
    activations: activations.subarray(0, tokens * hiddenSize),
  });

const runtime = await startLocalRuntime({ cpuEmulation: 'scale' });
const stageDir = mkdtempSync(join(tmpdir(), 'switchyard-bench-malloc-'));
const executor = new LambdaExecutor({ endpoint: runtime.endpoint, credentials, timeoutMs: 120_000 });
try {
  await deployPlan(
    benchPlan(graph.byteLength, maxTokens, memoryMB, [functions.tuned, functions.plain], shape),
    {
      target: 'local',
      endpoint: runtime.endpoint,
      graphs: () => graph,
      stageDir,
      credentials,
    },
  );
  const admin = new LambdaClient({ endpoint: runtime.endpoint, region: 'us-east-1', credentials });
  await admin.send(
    new UpdateFunctionConfigurationCommand({
      FunctionName: functions.plain,
      Environment: { Variables: { [deploymentEnvVar]: 'bench' } },
    }),
  );
  admin.destroy();

  const tokenSource = centredRandom(20261206);
  const measured = {
    tuned: [] as { tokens: number; durationMs: number; latencyMs: number }[],
    plain: [] as { tokens: number; durationMs: number; latencyMs: number }[],
  };
  // Cold starts and three warm calls each, untimed.
  for (let i = 0; i < 4; i++)
    for (const name of Object.values(functions))
      await executor.invoke({ functionName: name, payload: request(maxTokens) });
  const loadBefore = loadavg();
  for (let i = 0; i < runs; i++) {
    const tokens =
      Math.ceil(maxTokens / 4) +
      Math.floor((tokenSource() + 0.5) * (maxTokens - Math.ceil(maxTokens / 4) + 1));
    const payload = request(tokens);
    const order = i % 2 === 0 ? (['tuned', 'plain'] as const) : (['plain', 'tuned'] as const);
    for (const which of order) {
      const result = await executor.invoke({ functionName: functions[which], payload });
      measured[which].push({ tokens, durationMs: result.billing.durationMs, latencyMs: result.latencyMs });
    }
  }
  const loadAfter = loadavg();
  const summary = (which: 'tuned' | 'plain') => {
    const rows = measured[which];
    const tokens = rows.reduce((sum, row) => sum + row.tokens, 0);
    const duration = rows.reduce((sum, row) => sum + row.durationMs, 0);
    return {
      medianDurationMs: median(rows.map((row) => row.durationMs)),
      medianLatencyMs: median(rows.map((row) => row.latencyMs)),
      p90DurationMs: [...rows.map((row) => row.durationMs)].sort((a, b) => a - b)[
        Math.floor(rows.length * 0.9)
      ]!,
      durationUsPerToken: (duration / tokens) * 1000,
    };
  };
  const tuned = summary('tuned');
  const plain = summary('plain');
  const table = (Object.keys(tuned) as (keyof typeof tuned)[]).map((measure) => ({
    measure,
    'glibc defaults': Number(plain[measure].toFixed(3)),
    'GLIBC_TUNABLES (deployed)': Number(tuned[measure].toFixed(3)),
    'defaults / tuned': Number((plain[measure] / tuned[measure]).toFixed(2)),
  }));
  console.log(
    `Expert function ${hiddenSize}×${shape.intermediateSize} at ${memoryMB} MB (${runtime.runner} runner), ${runs} calls each of ${Math.ceil(maxTokens / 4)}–${maxTokens} tokens, alternating; load average ${loadBefore[0]!.toFixed(2)} before, ${loadAfter[0]!.toFixed(2)} after`,
  );
  console.table(table);
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  mkdirSync(join(root, 'bench-results'), { recursive: true });
  const out = join(root, 'bench-results', 'lambda-executor-malloc.json');
  // One entry per expert shape; a run replaces only its own.
  const previous = existsSync(out)
    ? (JSON.parse(readFileSync(out, 'utf8')) as { shapes?: Record<string, unknown> })
    : {};
  const entry = {
    date: new Date().toISOString(),
    shape,
    memoryMB,
    maxTokens,
    runs,
    runner: runtime.runner,
    environment: expertFunctionEnvironment,
    loadAverage: { before: loadBefore, after: loadAfter },
    rows: table,
    raw: measured,
  };
  writeFileSync(
    out,
    `${JSON.stringify({ benchmark: 'lambda-executor-malloc', shapes: { ...previous.shapes, [`${shape.hiddenSize}x${shape.intermediateSize}`]: entry } }, null, 2)}\n`,
  );
  console.log(`wrote ${out}`);
} finally {
  await executor.close();
  await runtime.stop();
  rmSync(stageDir, { recursive: true, force: true });
}
