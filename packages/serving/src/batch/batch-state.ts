import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ServingError } from '../errors.js';
import type { BillingTotals } from '../status.js';

/** What a batch job keeps beside its output (`<output>.state.json`), rewritten atomically as it runs. */
export interface BatchJobState {
  version: 1;
  /** SHA-256 of the input file: a resumed job must read the same input. */
  inputSha256: string;
  /** The caller's settings (model, target, plan, deployment…): a resumed job reuses them. */
  settings: Record<string, unknown>;
  /** How many times the job was started (1 + resumes). */
  runs: number;
  progress: { written: number; total: number };
  /** What the expert functions billed over every run so far (zero in process). */
  bill: BillingTotals;
  /** Wall time of every run so far. */
  wallSeconds: number;
  finished: boolean;
  updatedAt: string;
}

export const zeroBill: BillingTotals = {
  billedGbSeconds: 0,
  costUsd: 0,
  invocations: 0,
  retries: 0,
  failedInvocations: 0,
};

export function statePathFor(outputPath: string): string {
  return `${outputPath}.state.json`;
}

export function sha256Of(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The state a previous run left beside `outputPath`, or undefined for a new job. */
export function readJobState(outputPath: string): BatchJobState | undefined {
  const path = statePathFor(outputPath);
  if (!existsSync(path)) return undefined;
  let state: BatchJobState;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as BatchJobState;
  } catch (error) {
    throw new ServingError({
      code: 'INVALID_INPUT',
      message: `${path} is not a batch job state file; move it away to start the job anew`,
      location: path,
      cause: error,
    });
  }
  if (state.version !== 1) {
    throw new ServingError({
      code: 'INVALID_INPUT',
      message: `${path} has state version ${String(state.version)}; this Switchyard writes version 1`,
      location: path,
    });
  }
  return state;
}

/** Writes the state next to the output: a temporary file renamed over the old one (never half-written). */
export function writeJobState(outputPath: string, state: BatchJobState): void {
  const path = statePathFor(outputPath);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(temporary, path);
}

export function addBills(a: BillingTotals, b: BillingTotals): BillingTotals {
  return {
    billedGbSeconds: a.billedGbSeconds + b.billedGbSeconds,
    costUsd: a.costUsd + b.costUsd,
    invocations: a.invocations + b.invocations,
    retries: a.retries + b.retries,
    // A state file from before failed invocations were counted has none.
    failedInvocations: (a.failedInvocations ?? 0) + (b.failedInvocations ?? 0),
  };
}
