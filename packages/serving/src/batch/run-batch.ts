import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describeError, type Logger, noopLogger } from '@switchyard/core';
import type { Engine } from '../engine.js';
import { ServingError } from '../errors.js';
import type { LineDispatcher, LineResponse } from '../http/line-dispatch.js';
import { withRequestTag } from '../request-tag.js';
import type { BillingTotals } from '../status.js';
import {
  type BatchOutputLine,
  type BatchRequestLine,
  type ParsedLine,
  parseBatchInput,
  parsedLineKey,
  requestSize,
} from './batch-line.js';
import { OutputAppender, readExistingOutput } from './batch-output.js';
import {
  addBills,
  type BatchJobState,
  readJobState,
  sha256Of,
  writeJobState,
  zeroBill,
} from './batch-state.js';
import { CostAttribution } from './cost-attribution.js';

export interface BatchJobOptions {
  inputPath: string;
  outputPath: string;
  /** Lines in flight at once: the engine packs their sequences into shared steps. */
  concurrency?: number;
  /** `longest-first` (default) submits the largest requests first; `input` keeps the file's order. */
  order?: 'longest-first' | 'input';
  /** Add each request's attributed share of the billed expert invocations to its output line. */
  cost?: boolean;
  /** A line answered with a 5xx is tried this many more times before its error line is written. */
  serverErrorRetries?: number;
  /** Recorded in the state file (model, target, plan…) so a resumed job can reuse them. */
  settings?: Record<string, unknown>;
  /** Stops submitting lines (those in flight still finish and are written); the job can be resumed. */
  signal?: AbortSignal;
}

export interface BatchJobDependencies {
  dispatcher: LineDispatcher;
  /** The engine the dispatcher runs on: its step events attribute cost to lines. */
  engine?: Pick<Engine, 'onStep'>;
  /** The expert functions' bill (absent in process). */
  billing?: () => BillingTotals;
  logger?: Logger;
  onProgress?: (progress: BatchProgress) => void;
}

export interface BatchProgress {
  /** Lines answered, including those a previous run answered. */
  written: number;
  total: number;
  failed: number;
  /** Prompt + completion tokens of the lines this run answered. */
  tokens: number;
  elapsedMs: number;
  /** Billed so far over every run. */
  bill: BillingTotals;
}

export interface BatchSummary {
  /** Lines of the input (requests and lines that were errors on their own). */
  requests: number;
  succeeded: number;
  failed: number;
  /** Lines answered by an earlier run of the same job and skipped by this one. */
  resumed: number;
  /** Bytes of a torn last line cut off the output before resuming. */
  repairedBytes: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** Wall time over every run of the job. */
  wallSeconds: number;
  tokensPerSecond: number;
  /** What the expert functions billed over every run (REPORT lines), zero in process. */
  billedGbSeconds: number;
  costUsd: number;
  /** Function invocations that ran (each with a REPORT line), failed ones included. */
  invocations: number;
  /** Invocations tried again after a failure. */
  retries: number;
  /** Invocations that failed (function error, killed instance, timeout): each was retried or its line failed. */
  failedInvocations: number;
  usdPerMillionTokens: number;
  /** Billed outside any request's steps this run (startup probe, deployment checks). */
  unattributedGbSeconds: number;
  runs: number;
  /** False when `signal` stopped the job before every line was answered. */
  finished: boolean;
}

const progressIntervalMs = 500;

/**
 * Runs a batch file in OpenAI's batch format through a dispatcher (the server's own routes), appending
 * one output line per input line as each finishes. Started again with the same output, it skips every
 * line already answered (cutting off a torn last line) and runs the rest, so every valid custom_id is
 * answered exactly once however often the job is killed. The job's state (settings, progress, bill) is
 * kept beside the output.
 */
export async function runBatchJob(
  options: BatchJobOptions,
  { dispatcher, engine, billing, logger = noopLogger, onProgress }: BatchJobDependencies,
): Promise<BatchSummary> {
  const started = performance.now();
  const concurrency = options.concurrency ?? 256;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ServingError({
      code: 'INVALID_CONFIG',
      message: `concurrency must be a positive integer, got ${concurrency}`,
      location: 'concurrency',
    });
  }
  let inputText: string;
  try {
    inputText = await readFile(options.inputPath, 'utf8');
  } catch (error) {
    throw new ServingError({
      code: 'INVALID_INPUT',
      message: `cannot read the batch input ${options.inputPath}: ${describeError(error)}`,
      location: options.inputPath,
      cause: error,
    });
  }
  const inputSha256 = sha256Of(inputText);
  const previous = readJobState(options.outputPath);
  if (previous && previous.inputSha256 !== inputSha256) {
    throw new ServingError({
      code: 'INVALID_INPUT',
      message: `${options.outputPath} holds the results of another input (its state file records a different SHA-256); use another output path or move the old output away`,
      location: options.outputPath,
    });
  }
  const existing = readExistingOutput(options.outputPath, { logger });
  const parsed = parseBatchInput(inputText, dispatcher.urls);
  const total = parsed.length;
  const todo = parsed.filter((line) => !existing.lines.has(parsedLineKey(line)));
  const resumed = total - todo.length;

  const totals = { succeeded: 0, failed: 0, promptTokens: 0, completionTokens: 0 };
  const count = (line: BatchOutputLine) => {
    if (line.error || !line.response || line.response.status_code >= 400) totals.failed += 1;
    else totals.succeeded += 1;
    const usage = (line.response?.body as { usage?: { prompt_tokens?: number; completion_tokens?: number } })
      ?.usage;
    totals.promptTokens += usage?.prompt_tokens ?? 0;
    totals.completionTokens += usage?.completion_tokens ?? 0;
  };
  for (const line of existing.lines.values()) count(line);
  const tokensBefore = totals.promptTokens + totals.completionTokens;

  const priorBill = previous?.bill ?? zeroBill;
  const billNow = (): BillingTotals => addBills(priorBill, billing?.() ?? zeroBill);
  const state: BatchJobState = {
    version: 1,
    inputSha256,
    settings: previous?.settings ?? options.settings ?? {},
    runs: (previous?.runs ?? 0) + 1,
    progress: { written: resumed, total },
    bill: priorBill,
    wallSeconds: previous?.wallSeconds ?? 0,
    finished: false,
    updatedAt: new Date().toISOString(),
  };
  const saveState = () => {
    state.progress.written = existing.lines.size + written;
    state.bill = billNow();
    state.wallSeconds = (previous?.wallSeconds ?? 0) + (performance.now() - started) / 1000;
    state.updatedAt = new Date().toISOString();
    writeJobState(options.outputPath, state);
  };

  const attribution = billing ? new CostAttribution(billing) : undefined;
  const unsubscribe = attribution && engine ? engine.onStep((event) => attribution.record(event)) : undefined;
  const appender = new OutputAppender(options.outputPath);
  let written = 0;
  let lastSaved = 0;
  const progress = (): BatchProgress => ({
    written: existing.lines.size + written,
    total,
    failed: totals.failed,
    tokens: totals.promptTokens + totals.completionTokens - tokensBefore,
    elapsedMs: performance.now() - started,
    bill: billNow(),
  });
  const emit = (line: BatchOutputLine) => {
    appender.append(line);
    written += 1;
    count(line);
    const now = performance.now();
    if (now - lastSaved >= progressIntervalMs) {
      lastSaved = now;
      saveState();
      onProgress?.(progress());
    }
  };

  try {
    saveState();
    onProgress?.(progress());
    // Lines that are errors on their own are answered first: they need no model.
    for (const line of todo) {
      if (line.kind === 'error')
        emit({ id: lineId(), custom_id: line.customId, response: null, error: line.error });
    }
    const requests = todo.filter(
      (line): line is Extract<ParsedLine, { kind: 'request' }> => line.kind === 'request',
    );
    if ((options.order ?? 'longest-first') === 'longest-first')
      requests.sort((a, b) => requestSize(b.request) - requestSize(a.request) || a.line - b.line);
    const retries = options.serverErrorRetries ?? 2;
    const runOne = async (request: BatchRequestLine): Promise<void> => {
      let response: LineResponse | undefined;
      for (let attempt = 0; attempt <= retries; attempt++) {
        response = await withRequestTag(request.custom_id, () =>
          dispatcher.dispatch(request.url, request.body),
        );
        if (response.statusCode < 500) break;
        logger.warn('batch line failed on the server side', {
          customId: request.custom_id,
          status: response.statusCode,
          attempt,
        });
      }
      const line = outputLine(request.custom_id, response!);
      const cost = attribution?.take(request.custom_id);
      if (options.cost && cost) line.cost = cost;
      emit(line);
    };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < requests.length && !options.signal?.aborted) {
        const request = requests[next++]!;
        await runOne(request.request);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, worker));
    state.finished = !options.signal?.aborted;
    saveState();
    onProgress?.(progress());
  } finally {
    unsubscribe?.();
    appender.close();
  }
  const bill = billNow();
  const totalTokens = totals.promptTokens + totals.completionTokens;
  return {
    requests: total,
    succeeded: totals.succeeded,
    failed: totals.failed,
    resumed,
    repairedBytes: existing.repairedBytes,
    promptTokens: totals.promptTokens,
    completionTokens: totals.completionTokens,
    totalTokens,
    wallSeconds: state.wallSeconds,
    tokensPerSecond: state.wallSeconds > 0 ? totalTokens / state.wallSeconds : 0,
    billedGbSeconds: bill.billedGbSeconds,
    costUsd: bill.costUsd,
    invocations: bill.invocations,
    retries: bill.retries,
    failedInvocations: bill.failedInvocations,
    usdPerMillionTokens: totalTokens > 0 ? (bill.costUsd / totalTokens) * 1e6 : 0,
    unattributedGbSeconds: attribution?.unattributed().gbSeconds ?? 0,
    runs: state.runs,
    finished: state.finished,
  };
}

function lineId(): string {
  return `batch_req_${randomUUID().replaceAll('-', '')}`;
}

/** A dispatched line's output: the response as the API gave it, and its error fields when it failed. */
function outputLine(customId: string, response: LineResponse): BatchOutputLine {
  const body = response.body as { id?: unknown; error?: { code?: unknown; message?: unknown } };
  const requestId = typeof body?.id === 'string' ? body.id : `req_${randomUUID().replaceAll('-', '')}`;
  const failed = response.statusCode >= 400;
  return {
    id: lineId(),
    custom_id: customId,
    response: { status_code: response.statusCode, request_id: requestId, body: response.body },
    error: failed
      ? {
          code: String(body?.error?.code ?? `http_${response.statusCode}`),
          message: String(body?.error?.message ?? `the request failed with status ${response.statusCode}`),
        }
      : null,
  };
}
