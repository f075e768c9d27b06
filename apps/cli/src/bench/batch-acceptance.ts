import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { type LocalRuntimeOptions, startLocalRuntime } from '@switchyard/lambda-local';
import type { BatchSummary } from '@switchyard/serving/http';
import { repoRoot, runCli } from '@switchyard/testing/cli';
import { startReportTap } from '@switchyard/testing/report-tap';
import { type BatchJobSpec, batchJobLines, defaultBatchJobSpec, readShakespeare } from './batch-job.js';

/**
 * Issue #20's acceptance run: one seeded job (mixed completions and chat, greedy) through `switchyard
 * run-batch --cost --json` twice — experts in process, then on the embedded Lambda runtime — checking
 * that the outputs are equal line by line and that the local job's billed GB-s is what the runtime's
 * REPORT lines add up to, read off the wire by a proxy (never from the summary's own numbers).
 */
export interface BatchAcceptanceOptions {
  workDir: string;
  job?: Partial<BatchJobSpec>;
  /** Checkpoint (default: the bundled shakespeare-mixtral-8x2). */
  modelDir?: string;
  /** A deployment plan file for the local run (default: run-batch's own choice). */
  planPath?: string;
  /** Extra run-batch flags for both runs (packing, concurrency, threads…). */
  runBatchArgs?: string[];
  /** Options of the embedded runtime the local run uses (fault injection for the chaos test). */
  runtime?: LocalRuntimeOptions;
  /** Per CLI run. */
  timeoutMs?: number;
}

/** `run-batch --json`: serving's batch summary plus what the CLI adds (baselines, deployment; architecture/batch.md). */
export type RunBatchSummary = BatchSummary & { [field: string]: unknown };

export interface BatchAcceptanceResult {
  job: BatchJobSpec;
  inputPath: string;
  inProcess: RunBatchSummary;
  local: RunBatchSummary;
  /** custom_ids whose status, choices or usage differ between the two runs (empty when they agree). */
  differingLines: string[];
  /** Lines in each output. */
  outputLines: { inProcess: number; local: number };
  /** What the runtime's REPORT lines add up to (the proxy's count), for the local run. */
  reports: { lines: number; failedLines: number; gbSeconds: number };
  loadAverage1m: { start: number; end: number };
}

interface OutputLine {
  custom_id: string | null;
  response: { status_code: number; body: { choices?: unknown; usage?: unknown } } | null;
  error: { code: string; line?: number } | null;
}

const readOutput = (path: string): OutputLine[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as OutputLine);

/** What must agree between two runs of the same greedy job: status, choices, usage, error code. */
function comparable(lines: OutputLine[]): Map<string, string> {
  return new Map(
    lines.map((line) => [
      line.error?.line === undefined ? String(line.custom_id) : `line:${line.error.line}`,
      JSON.stringify({
        status: line.response?.status_code,
        choices: line.response?.body.choices,
        usage: line.response?.body.usage,
        error: line.error?.code,
      }),
    ]),
  );
}

/** The custom_ids (or `line:N` keys) on which two outputs differ, or that only one of them has. */
export function differingLines(a: string, b: string): string[] {
  const left = comparable(readOutput(a));
  const right = comparable(readOutput(b));
  const keys = new Set([...left.keys(), ...right.keys()]);
  return [...keys].filter((key) => left.get(key) !== right.get(key)).sort();
}

async function runBatch(args: string[], timeoutMs: number): Promise<RunBatchSummary> {
  const run = await runCli(['run-batch', ...args, '--cost', '--json'], { timeoutMs });
  if (run.code !== 0) {
    throw new Error(`switchyard run-batch ${args.join(' ')} exited ${run.code}: ${run.stderr.slice(-2000)}`);
  }
  return JSON.parse(run.stdout) as RunBatchSummary;
}

export async function runBatchAcceptance(options: BatchAcceptanceOptions): Promise<BatchAcceptanceResult> {
  const job = { ...defaultBatchJobSpec, ...options.job };
  mkdirSync(options.workDir, { recursive: true });
  const inputPath = join(options.workDir, 'requests.jsonl');
  writeFileSync(inputPath, `${batchJobLines(job, readShakespeare(repoRoot)).join('\n')}\n`);
  const model = options.modelDir ?? join(repoRoot, 'fixtures/checkpoints/shakespeare-mixtral-8x2');
  const timeoutMs = options.timeoutMs ?? 3_600_000;
  const extra = options.runBatchArgs ?? [];
  const loadStart = loadavg()[0] ?? 0;

  const inProcessPath = join(options.workDir, 'in-process.jsonl');
  const inProcess = await runBatch([model, '-i', inputPath, '-o', inProcessPath, ...extra], timeoutMs);

  const runtime = await startLocalRuntime({ initTimeoutMs: 120_000, ...options.runtime });
  const tap = await startReportTap(runtime.endpoint);
  const localPath = join(options.workDir, 'local.jsonl');
  let local: RunBatchSummary;
  try {
    local = await runBatch(
      [
        model,
        '-i',
        inputPath,
        '-o',
        localPath,
        '--target',
        'local',
        '--endpoint',
        tap.url,
        ...(options.planPath ? ['--plan', options.planPath] : []),
        ...extra,
      ],
      timeoutMs,
    );
  } finally {
    await tap.close();
    await runtime.stop();
  }
  return {
    job,
    inputPath,
    inProcess,
    local,
    differingLines: differingLines(inProcessPath, localPath),
    outputLines: { inProcess: readOutput(inProcessPath).length, local: readOutput(localPath).length },
    reports: { lines: tap.reports(), failedLines: tap.failedReports(), gbSeconds: tap.gbSeconds() },
    loadAverage1m: { start: loadStart, end: loadavg()[0] ?? 0 },
  };
}
