/**
 * The batch benchmark (issue #20): a job whose request sizes follow the Azure LLM inference trace 2023
 * (conversation service, scaled onto the bundled model's context) run as a batch job in process and
 * with experts on the embedded Lambda runtime at several step token budgets, the same requests through
 * the server one at a time, and a replay of the trace's arrivals through the server beside a Batch API
 * job. Writes bench-results/batch.json and batch.md.
 *   pnpm --filter @switchyard/cli bench:batch [-- --quick] [--requests 48] [--repetitions 2]
 *     [--local-repetitions N] [--budgets 1024,4096,10240] [--targets in-process,local]
 *     [--one-at-a-time-targets in-process] [--replay-requests 40] [--replay-seconds 20]
 *     [--replay-batch-requests 200]
 *     [--out bench-results]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadAzureTrace } from '@switchyard/cost-model';
import { startLocalRuntime } from '@switchyard/lambda-local';
import {
  type BatchBenchSetup,
  type ExpertTarget,
  type JobRun,
  type ReplayRun,
  runBatchJobOnce,
  runOneAtATime,
  runReplay,
  usdPerVcpuSecond,
} from './batch-bench.js';
import { batchMarkdown, summarizeJobRuns, summarizeReplayRuns } from './batch-bench-report.js';
import { batchWorkload } from './batch-workload.js';
import { integerList, oneInteger, scriptArgs } from './bench-args.js';

const root = join(import.meta.dirname, '../../../..');
const args = scriptArgs();
const { values } = parseArgs({
  args,
  options: {
    quick: { type: 'boolean', default: false },
    requests: { type: 'string' },
    repetitions: { type: 'string' },
    'local-repetitions': { type: 'string' },
    'one-at-a-time-targets': { type: 'string', default: 'in-process' },
    budgets: { type: 'string' },
    targets: { type: 'string', default: 'in-process,local' },
    'replay-requests': { type: 'string' },
    'replay-seconds': { type: 'string' },
    'replay-batch-requests': { type: 'string' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: join(root, 'bench-results') },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: batch-bench-main.ts [--quick] [--requests N] [--repetitions N] [--local-repetitions N]\n' +
      '  [--budgets 1024,4096,10240] [--targets in-process,local] [--one-at-a-time-targets in-process]\n' +
      '  [--replay-requests N] [--replay-batch-requests N] [--replay-seconds S] [--seed N] [--out DIR]\n',
  );
  process.exit(0);
}

const quick = values.quick;
const requests = oneInteger(values.requests, quick ? 8 : 48, 'requests');
const repetitions = oneInteger(values.repetitions, quick ? 1 : 2, 'repetitions');
const localRepetitions = oneInteger(values['local-repetitions'], repetitions, 'local-repetitions');
const budgets = integerList(values.budgets, quick ? [1024] : [1024, 4096, 10_240], 'budgets');
const replayRequests = oneInteger(values['replay-requests'], quick ? 6 : 40, 'replay-requests');
const replaySeconds = oneInteger(values['replay-seconds'], quick ? 3 : 20, 'replay-seconds');
const replayBatchRequests = oneInteger(
  values['replay-batch-requests'],
  quick ? 8 : 200,
  'replay-batch-requests',
);
const seed = oneInteger(values.seed, 1, 'seed');
function targetList(text: string, flag: string): ExpertTarget[] {
  const list = text.split(',').filter((target) => target !== '');
  if (list.some((target) => target !== 'in-process' && target !== 'local')) {
    process.stderr.write(`--${flag} takes in-process and/or local, got ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return list as ExpertTarget[];
}
const targets = targetList(values.targets, 'targets');
const oneAtATimeTargets = targetList(values['one-at-a-time-targets'], 'one-at-a-time-targets');

const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();
const modelDir = join(root, 'fixtures/checkpoints/shakespeare-mixtral-8x2');
const maxContextTokens = (
  JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as {
    max_position_embeddings: number;
  }
).max_position_embeddings;
const trace = loadAzureTrace(
  join(root, 'fixtures/data/azure-llm-inference-2023/AzureLLMInferenceTrace_conv.csv'),
);
const text = readFileSync(join(root, 'fixtures/data/tinyshakespeare.txt'), 'utf8');
const workload = batchWorkload(trace, { requests, seed, maxContextTokens, text });
// Interactive traffic for the replay: another window of the same trace (its own arrivals and sizes).
const interactive = batchWorkload(trace, {
  requests: replayRequests,
  seed: seed + 1,
  maxContextTokens,
  text,
});
// The replay's Batch API job: a third window, large enough to run through the whole replay.
const replayBatch = batchWorkload(trace, {
  requests: replayBatchRequests,
  seed: seed + 2,
  maxContextTokens,
  text,
});
const traceSpanS = interactive.requests.at(-1)!.arrivalS;
const speedup = traceSpanS > 0 ? traceSpanS / replaySeconds : 1;

const uptimeBefore = uptime();
const loadBefore = loadavg()[0]!;
process.stderr.write(
  `${uptimeBefore}\n${workload.source}: ${requests} requests, scale ${workload.scale.toFixed(4)}\n`,
);
const runtime = [...targets, ...oneAtATimeTargets].includes('local')
  ? await startLocalRuntime({ initTimeoutMs: 120_000 })
  : undefined;
const setup: BatchBenchSetup = {
  modelDir,
  workload,
  threads: 1,
  ...(runtime ? { localEndpoint: runtime.endpoint } : {}),
};
const jobRuns: JobRun[] = [];
const replayRuns: ReplayRun[] = [];
const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
try {
  // Repetitions interleave the configurations, so a change in the machine's load hits all of them,
  // and each repetition starts the budgets one later (1,024 first, then 4,096 first, …), so no budget
  // is always the first to reach freshly deployed functions.
  for (let run = 1; run <= repetitions; run++) {
    const shift = (run - 1) % budgets.length;
    for (const budget of [...budgets.slice(shift), ...budgets.slice(0, shift)]) {
      for (const target of targets) {
        // The embedded runtime is slow on a shared machine: it may run fewer repetitions.
        if (target === 'local' && run > localRepetitions) continue;
        const result = await runBatchJobOnce(setup, target, budget, run);
        log(
          `batch job ${target} ${budget}: ${result.tokensPerSecond.toFixed(1)} tokens/s, $${result.usd.toExponential(3)}`,
        );
        jobRuns.push(result);
      }
    }
    for (const target of oneAtATimeTargets) {
      if (target === 'local' && run > localRepetitions) continue;
      const result = await runOneAtATime(setup, target, run);
      log(
        `one at a time ${target}: ${result.tokensPerSecond.toFixed(1)} tokens/s, $${result.usd.toExponential(3)}`,
      );
      jobRuns.push(result);
    }
    for (const scenario of ['interactive alone', 'interactive + batch', 'batch alone'] as const) {
      const result = await runReplay(setup, interactive.requests, replayBatch, {
        speedup,
        maxBatchTokens: Math.max(...budgets),
        scenario,
        run,
      });
      log(
        `replay ${scenario}: TTFT p50 ${result.ttftP50Ms} ms p99 ${result.ttftP99Ms} ms, batch ${result.batchTokensPerSecond} tokens/s`,
      );
      replayRuns.push(result);
    }
  }
} finally {
  await runtime?.stop();
}
const uptimeAfter = uptime();
const result = {
  benchmark: 'batch',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown' },
  uptimeBefore,
  uptimeAfter,
  load1Before: loadBefore,
  load1After: loadavg()[0]!,
  settings: {
    requests,
    repetitions,
    localRepetitions,
    oneAtATimeTargets,
    budgets,
    targets,
    replayRequests,
    replaySeconds,
    replayBatchRequests,
    speedup,
    seed,
    quick,
  },
  cpuPrice: usdPerVcpuSecond(),
  workload: {
    source: workload.source,
    attribution:
      'Azure Public Dataset, AzureLLMInferenceTrace 2023 (CC-BY 4.0): Patel et al., "Splitwise: Efficient generative LLM inference using phase splitting", ISCA 2024',
    scale: workload.scale,
    maxContextTokens,
    requests: workload.requests.map(({ prompt: _, ...sizes }) => sizes),
  },
  replayBatch: { source: replayBatch.source, requests: replayBatch.requests.length },
  interactive: {
    source: interactive.source,
    requests: interactive.requests.map(({ prompt: _, ...sizes }) => sizes),
  },
  jobRuns,
  jobSummary: summarizeJobRuns(jobRuns),
  replayRuns,
  replaySummary: summarizeReplayRuns(replayRuns),
};
await mkdir(values.out, { recursive: true });
await writeFile(join(values.out, 'batch.json'), `${JSON.stringify(result, null, 2)}\n`);
const markdown = batchMarkdown(result);
await writeFile(join(values.out, 'batch.md'), markdown);
process.stdout.write(markdown);
process.stderr.write(`${uptimeAfter}\n`);
