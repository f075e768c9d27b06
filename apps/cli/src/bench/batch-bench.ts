import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, quantile } from '@switchyard/core';
import { defaultPriceTable, ec2Instance } from '@switchyard/cost-model';
import { type ServingOptions, type ServingStack, startServing } from '@switchyard/serving';
import { createLineDispatcher, runBatchJob, serve } from '@switchyard/serving/http';
import { type BatchWorkload, batchFileOf, completionBody, type WorkloadRequest } from './batch-workload.js';

/**
 * The CPU price in-process serving is charged at: the cost model's CPU-cluster baseline instance
 * (m6a.32xlarge on demand in us-east-1), per vCPU-second.
 */
export function usdPerVcpuSecond(): { usd: number; source: string } {
  const instance = ec2Instance('m6a.32xlarge', 'us-east-1', defaultPriceTable);
  return {
    usd: instance.usdPerHour.value / instance.vcpus / 3600,
    source: `m6a.32xlarge us-east-1 on demand $${instance.usdPerHour.value}/h ÷ ${instance.vcpus} vCPU (${instance.usdPerHour.source}, ${instance.usdPerHour.date})`,
  };
}

export type ExpertTarget = 'in-process' | 'local';

export interface BatchBenchSetup {
  modelDir: string;
  workload: BatchWorkload;
  /** A running Lambda API endpoint for `local` (shared by every run, so cold starts are paid once). */
  localEndpoint?: string;
  threads: number;
}

/** One measured run of the job. */
export interface JobRun {
  mode: 'batch job' | 'server, one at a time';
  target: ExpertTarget;
  /** Step token budget; null for one request at a time. */
  maxBatchTokens: number | null;
  run: number;
  requests: number;
  failed: number;
  tokens: number;
  wallSeconds: number;
  tokensPerSecond: number;
  /** CPU time of this process over the run (the host side: attention, routing, HTTP; in process also the experts). */
  hostCpuSeconds: number;
  billedGbSeconds: number;
  invocations: number;
  /** In process: host CPU seconds × the CPU price; local: the REPORT lines' bill. */
  usd: number;
  usdPerMillionTokens: number;
}

const servingOptions = (setup: BatchBenchSetup, target: ExpertTarget, maxBatchTokens: number | undefined) =>
  ({
    modelDir: setup.modelDir,
    target,
    ...(target === 'local' && setup.localEndpoint ? { endpoint: setup.localEndpoint } : {}),
    adaptation: false,
    batching: 'continuous',
    maxBatchSize: 256,
    ...(maxBatchTokens === undefined ? {} : { maxBatchTokens }),
    seed: 1,
    threads: setup.threads,
  }) satisfies ServingOptions;

/** What the run cost and how many tokens per second it gave, from counters read before and after. */
function priced(
  base: Omit<JobRun, 'tokensPerSecond' | 'usd' | 'usdPerMillionTokens' | 'billedGbSeconds' | 'invocations'>,
  bill: { gbSeconds: number; usd: number; invocations: number } | undefined,
  cpuPrice: number,
): JobRun {
  const usd = bill ? bill.usd : base.hostCpuSeconds * cpuPrice;
  return {
    ...base,
    tokensPerSecond: base.tokens / base.wallSeconds,
    billedGbSeconds: bill?.gbSeconds ?? 0,
    invocations: bill?.invocations ?? 0,
    usd,
    usdPerMillionTokens: (usd / base.tokens) * 1e6,
  };
}

function billOf(stack: ServingStack) {
  const totals = stack.status.billing?.();
  return totals
    ? { gbSeconds: totals.billedGbSeconds, usd: totals.costUsd, invocations: totals.invocations }
    : undefined;
}

const minus = (
  after: ReturnType<typeof billOf>,
  before: ReturnType<typeof billOf>,
): ReturnType<typeof billOf> =>
  after && before
    ? {
        gbSeconds: after.gbSeconds - before.gbSeconds,
        usd: after.usd - before.usd,
        invocations: after.invocations - before.invocations,
      }
    : undefined;

const cpuSecondsSince = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
};

/** The job through `runBatchJob` (what `switchyard run-batch` runs), deployment and model load excluded. */
export async function runBatchJobOnce(
  setup: BatchBenchSetup,
  target: ExpertTarget,
  maxBatchTokens: number,
  run: number,
): Promise<JobRun> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-batch-bench-'));
  const stack = await startServing(servingOptions(setup, target, maxBatchTokens));
  try {
    const inputPath = join(dir, 'requests.jsonl');
    await writeFile(inputPath, batchFileOf(setup.workload));
    const dispatcher = createLineDispatcher(
      { engine: stack.engine, status: stack.status },
      { maxPromptTokens: stack.engine.info.maxContextTokens, maxTokens: stack.engine.info.maxContextTokens },
    );
    const billBefore = billOf(stack);
    const cpu = process.cpuUsage();
    const started = performance.now();
    const summary = await runBatchJob(
      { inputPath, outputPath: join(dir, 'results.jsonl'), concurrency: 256 },
      {
        dispatcher,
        engine: stack.engine,
        ...(stack.status.billing ? { billing: stack.status.billing } : {}),
      },
    );
    const wallSeconds = (performance.now() - started) / 1000;
    const hostCpuSeconds = cpuSecondsSince(cpu);
    return priced(
      {
        mode: 'batch job',
        target,
        maxBatchTokens,
        run,
        requests: summary.requests,
        failed: summary.failed,
        tokens: summary.totalTokens,
        wallSeconds,
        hostCpuSeconds,
      },
      minus(billOf(stack), billBefore),
      usdPerVcpuSecond().usd,
    );
  } finally {
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  }
}

interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

/** The same requests through the server's `/v1/completions` over real HTTP, one after another. */
export async function runOneAtATime(
  setup: BatchBenchSetup,
  target: ExpertTarget,
  run: number,
): Promise<JobRun> {
  const stack = await serve(servingOptions(setup, target, undefined), { port: 0 });
  try {
    const billBefore = billOf(stack);
    const cpu = process.cpuUsage();
    const started = performance.now();
    let tokens = 0;
    let failed = 0;
    for (const request of setup.workload.requests) {
      const response = await fetch(`${stack.server.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(completionBody(request)),
      });
      const body = (await response.json()) as { usage?: CompletionUsage };
      if (!response.ok || !body.usage) failed += 1;
      else tokens += body.usage.prompt_tokens + body.usage.completion_tokens;
    }
    const wallSeconds = (performance.now() - started) / 1000;
    return priced(
      {
        mode: 'server, one at a time',
        target,
        maxBatchTokens: null,
        run,
        requests: setup.workload.requests.length,
        failed,
        tokens,
        wallSeconds,
        hostCpuSeconds: cpuSecondsSince(cpu),
      },
      minus(billOf(stack), billBefore),
      usdPerVcpuSecond().usd,
    );
  } finally {
    await stack.close();
  }
}

/** One replay: interactive requests at the trace's arrival times, a Batch API job, or both at once. */
export interface ReplayRun {
  scenario: 'interactive alone' | 'batch alone' | 'interactive + batch';
  run: number;
  interactiveRequests: number;
  /** Time to first token of each interactive request, ms (streamed over HTTP). */
  ttftP50Ms: number | null;
  ttftP99Ms: number | null;
  /** Whole-response latency of the interactive requests. */
  latencyP50Ms: number | null;
  interactiveFailed: number;
  batchRequests: number;
  batchTokens: number;
  /** From `POST /v1/batches` to the batch's completion as the server reports it (polled every 100 ms). */
  batchSeconds: number | null;
  batchTokensPerSecond: number | null;
}

async function streamedCompletion(
  url: string,
  request: WorkloadRequest,
): Promise<{ ttftMs: number; latencyMs: number; ok: boolean }> {
  const started = performance.now();
  const response = await fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...completionBody(request), stream: true }),
  });
  if (!response.ok || !response.body) {
    await response.text();
    return { ttftMs: Number.NaN, latencyMs: Number.NaN, ok: false };
  }
  let ttftMs = Number.NaN;
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of response.body) {
    text += decoder.decode(chunk, { stream: true });
    // The first event that carries generated text is the first token.
    if (Number.isNaN(ttftMs) && /"text":"[^"]/.test(text)) ttftMs = performance.now() - started;
  }
  return { ttftMs, latencyMs: performance.now() - started, ok: text.includes('data: [DONE]') };
}

async function uploadAndStartBatch(url: string, content: string): Promise<string> {
  const form = new FormData();
  form.append('purpose', 'batch');
  form.append('file', new Blob([content], { type: 'application/jsonl' }), 'requests.jsonl');
  const file = (await (await fetch(`${url}/v1/files`, { method: 'POST', body: form })).json()) as {
    id: string;
  };
  const response = await fetch(`${url}/v1/batches`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ input_file_id: file.id, endpoint: '/v1/completions', completion_window: '24h' }),
  });
  const batch = (await response.json()) as { id?: string; error?: unknown };
  if (!batch.id) throw new Error(`the server refused the batch: ${JSON.stringify(batch)}`);
  return batch.id;
}

/** Polls the batch until it is done; returns its output's tokens. */
async function awaitBatch(url: string, id: string): Promise<{ tokens: number; requests: number }> {
  for (;;) {
    const batch = (await (await fetch(`${url}/v1/batches/${id}`)).json()) as {
      status: string;
      output_file_id: string | null;
    };
    if (['failed', 'cancelled', 'expired'].includes(batch.status))
      throw new Error(`batch ${id} ended ${batch.status}`);
    if (batch.status === 'completed') {
      const content = batch.output_file_id
        ? await (await fetch(`${url}/v1/files/${batch.output_file_id}/content`)).text()
        : '';
      let tokens = 0;
      let requests = 0;
      for (const line of content.split('\n')) {
        if (line.trim() === '') continue;
        const usage = (JSON.parse(line) as { response?: { body?: { usage?: CompletionUsage } } }).response
          ?.body?.usage;
        requests += 1;
        tokens += (usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0);
      }
      return { tokens, requests };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Replays `interactive` at its arrival times ÷ `speedup` through a server (experts in process), beside
 * `batchJob` as a Batch API job when `scenario` has one.
 */
export async function runReplay(
  setup: BatchBenchSetup,
  interactive: WorkloadRequest[],
  batchJob: BatchWorkload,
  options: { speedup: number; maxBatchTokens: number; scenario: ReplayRun['scenario']; run: number },
): Promise<ReplayRun> {
  const dataDir = await mkdtemp(join(tmpdir(), 'switchyard-batch-replay-'));
  const stack = await serve(servingOptions(setup, 'in-process', options.maxBatchTokens), {
    port: 0,
    dataDir,
  });
  try {
    const url = stack.server.url;
    const withBatch = options.scenario !== 'interactive alone';
    const withInteractive = options.scenario !== 'batch alone';
    const batchStarted = performance.now();
    const batchId = withBatch ? await uploadAndStartBatch(url, batchFileOf(batchJob)) : undefined;
    const batchDone = batchId
      ? awaitBatch(url, batchId).then((result) => ({
          ...result,
          seconds: (performance.now() - batchStarted) / 1000,
        }))
      : undefined;
    const replayStarted = performance.now();
    const results = withInteractive
      ? await Promise.all(
          interactive.map(async (request) => {
            const dueMs = (request.arrivalS / options.speedup) * 1000;
            const waitMs = dueMs - (performance.now() - replayStarted);
            if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
            return streamedCompletion(url, request);
          }),
        )
      : [];
    const batch = await batchDone;
    const ok = results.filter((result) => result.ok && Number.isFinite(result.ttftMs));
    const ttfts = ok.map((result) => result.ttftMs);
    return {
      scenario: options.scenario,
      run: options.run,
      interactiveRequests: results.length,
      ttftP50Ms: ttfts.length > 0 ? quantile(ttfts, 0.5) : null,
      ttftP99Ms: ttfts.length > 0 ? quantile(ttfts, 0.99) : null,
      latencyP50Ms: ok.length > 0 ? median(ok.map((result) => result.latencyMs)) : null,
      interactiveFailed: results.length - ok.length,
      batchRequests: batch?.requests ?? 0,
      batchTokens: batch?.tokens ?? 0,
      batchSeconds: batch?.seconds ?? null,
      batchTokensPerSecond: batch ? batch.tokens / batch.seconds : null,
    };
  } finally {
    await stack.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
