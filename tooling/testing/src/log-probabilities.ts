import { join } from 'node:path';
import { readSafetensorsFile, type SafetensorsFile } from '@switchyard/core';

/** log softmax of one row of logits, in float64. */
export function logSoftmax(row: ArrayLike<number>): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]!);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
  const logSum = max + Math.log(sum);
  return Float64Array.from(row as ArrayLike<number>, (x) => x - logSum);
}

export function argmaxOf(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

export interface LogProbabilityComparison {
  /** Largest |Δ log p| over the tokens `expected` gives log p > −20 (below, float32 probabilities lose digits). */
  maxAbsDelta: number;
  /** Rows whose most probable token is the same on both sides. */
  greedyAgreement: number;
  rows: number;
}

/** Compares next-token log-probabilities row by row (same vocabulary on both sides). */
export function compareLogProbabilities(
  expected: readonly ArrayLike<number>[],
  actual: readonly ArrayLike<number>[],
): LogProbabilityComparison {
  if (expected.length !== actual.length)
    throw new Error(`${expected.length} expected rows, ${actual.length} actual rows`);
  let maxAbsDelta = 0;
  let greedyAgreement = 0;
  expected.forEach((row, index) => {
    const other = actual[index]!;
    if (other.length !== row.length)
      throw new Error(`row ${index}: ${row.length} expected entries, ${other.length} actual`);
    for (let v = 0; v < row.length; v++)
      if (row[v]! > -20) maxAbsDelta = Math.max(maxAbsDelta, Math.abs(row[v]! - other[v]!));
    if (argmaxOf(row) === argmaxOf(other)) greedyAgreement++;
  });
  return { maxAbsDelta, greedyAgreement, rows: expected.length };
}

export interface ReferenceLogProbabilities {
  /** The reference prompts, one token list per sequence. */
  prompts: number[][];
  /** log softmax of the reference logits, one row per prompt position (sequence-major). */
  rows: Float64Array[];
  vocabulary: number;
  /** The whole reference file (e.g. for `generated`). */
  reference: SafetensorsFile;
}

/** The transformers reference beside a checkpoint (architecture/formats.md), as next-token log-probabilities. */
export async function readReferenceLogProbabilities(
  checkpointDir: string,
): Promise<ReferenceLogProbabilities> {
  const reference = await readSafetensorsFile(join(checkpointDir, 'reference.safetensors'));
  const [batch, length] = reference.get('input_ids').shape as [number, number];
  const ids = reference.int32('input_ids');
  const logits = reference.float32('logits');
  const vocabulary = logits.length / (batch * length);
  return {
    prompts: Array.from({ length: batch }, (_, b) => Array.from(ids.subarray(b * length, (b + 1) * length))),
    rows: Array.from({ length: batch * length }, (_, row) =>
      logSoftmax(logits.subarray(row * vocabulary, (row + 1) * vocabulary)),
    ),
    vocabulary,
    reference,
  };
}
