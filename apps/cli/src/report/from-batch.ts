import { readFileSync } from 'node:fs';
import { SwitchyardError } from '@switchyard/core';
import { z } from 'zod';
import type { ReportBatch } from './report-data.js';

/** The parts of a `run-batch --json` summary the view reads (other fields are ignored). */
export const batchSummarySchema = z.object({
  target: z.string().optional(),
  requests: z.number().int().nonnegative(),
  succeeded: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  promptTokens: z.number().nonnegative(),
  completionTokens: z.number().nonnegative(),
  wallSeconds: z.number().nonnegative(),
  tokensPerSecond: z.number().nonnegative(),
  billedGbSeconds: z.number().nonnegative(),
  costUsd: z.number().nonnegative(),
  usdPerMillionTokens: z.number().nonnegative(),
  invocations: z.number().int().nonnegative(),
  runs: z.number().int().positive(),
  finished: z.boolean(),
  baselines: z
    .array(
      z.object({
        name: z.string(),
        usd: z.number().nonnegative(),
        usdPerMillionTokens: z.number().nonnegative(),
        description: z.string().optional(),
      }),
    )
    .default([]),
});
export type BatchSummaryInput = z.input<typeof batchSummarySchema>;

/** The state file `run-batch` keeps beside its output, as far as the view reads it. */
export interface BatchStateInput {
  settings: Record<string, unknown>;
  runs: number;
  progress: { written: number; total: number };
  bill: { billedGbSeconds: number; costUsd: number; invocations: number };
  wallSeconds: number;
  finished: boolean;
}

interface OutputLine {
  error: unknown;
  response: { status_code: number; body: unknown } | null;
  cost?: { usd: number };
}

/**
 * The batch view's data from a job's output (each line's usage and, with `--cost`, its cost), its state
 * file (wall time, bill, progress) and, when given, its `run-batch --json` summary (which wins where
 * both say something, and adds the baselines). A line that is not JSON is an error naming its line.
 */
export function batchReportFromJob(
  outputPath: string,
  state: BatchStateInput | undefined,
  summary?: z.output<typeof batchSummarySchema>,
): ReportBatch {
  let text: string;
  try {
    text = readFileSync(outputPath, 'utf8');
  } catch (error) {
    throw new SwitchyardError({
      code: 'NOT_FOUND',
      message: `cannot read the batch output ${outputPath}`,
      location: outputPath,
      cause: error,
    });
  }
  let succeeded = 0;
  let promptTokens = 0;
  let completionTokens = 0;
  const lineCostsUsd: number[] = [];
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  lines.forEach((line, index) => {
    let parsed: OutputLine;
    try {
      parsed = JSON.parse(line) as OutputLine;
    } catch {
      throw new SwitchyardError({
        code: 'INVALID_INPUT',
        message: `${outputPath}:${index + 1} is not a JSON batch output line`,
        location: `${outputPath}:${index + 1}`,
      });
    }
    if (parsed.error === null && parsed.response && parsed.response.status_code < 400) succeeded += 1;
    const usage = (
      parsed.response?.body as { usage?: { prompt_tokens?: number; completion_tokens?: number } }
    )?.usage;
    promptTokens += usage?.prompt_tokens ?? 0;
    completionTokens += usage?.completion_tokens ?? 0;
    if (parsed.cost && typeof parsed.cost.usd === 'number') lineCostsUsd.push(parsed.cost.usd);
  });
  const tokens = promptTokens + completionTokens;
  const wallSeconds = state?.wallSeconds ?? 0;
  const costUsd = state?.bill.costUsd ?? 0;
  const target =
    summary?.target ?? (typeof state?.settings.target === 'string' ? state.settings.target : undefined);
  return {
    output: outputPath,
    ...(target === undefined ? {} : { target }),
    requests: summary?.requests ?? state?.progress.total ?? lines.length,
    succeeded: summary?.succeeded ?? succeeded,
    failed: summary?.failed ?? lines.length - succeeded,
    promptTokens: summary?.promptTokens ?? promptTokens,
    completionTokens: summary?.completionTokens ?? completionTokens,
    wallSeconds: summary?.wallSeconds ?? wallSeconds,
    tokensPerSecond: summary?.tokensPerSecond ?? (wallSeconds > 0 ? tokens / wallSeconds : 0),
    billedGbSeconds: summary?.billedGbSeconds ?? state?.bill.billedGbSeconds ?? 0,
    costUsd: summary?.costUsd ?? costUsd,
    usdPerMillionTokens: summary?.usdPerMillionTokens ?? (tokens > 0 ? (costUsd / tokens) * 1e6 : 0),
    invocations: summary?.invocations ?? state?.bill.invocations ?? 0,
    runs: summary?.runs ?? state?.runs ?? 1,
    finished: summary?.finished ?? state?.finished ?? lines.length > 0,
    lineCostsUsd,
    baselines: summary?.baselines ?? [],
  };
}
