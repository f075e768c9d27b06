import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ExpertQuantization, type ExpertQuantizationFormat, parseJson } from '@switchyard/core';
import type { ComputeProfile } from '@switchyard/cost-model';
import { evaluateLikelihood, loadModel } from '@switchyard/model';
import { type QuantizedPaperRow, quantizedPaperRows } from '@switchyard/optimizer';
import { profilePaperExpert } from './paper-profile.js';

/**
 * The quantized rows of `bench paper` (issue #18), kept apart from the float32 benchmark: the paper
 * expert (768 × 3,072) profiled in float32, int8 and int4 on this machine, each shape planned per
 * format at the float32 rows' SLO, and beside each format the accuracy it costs on the bundled model
 * (bits per byte of shakespeare-mixtral-8x2 over the held-out last 10 % of tinyshakespeare).
 * float32 is always the reference row; `quantization` (`bench paper --quantize`) picks the one
 * quantized format beside it, and without it both int8 and int4 (block 32) are.
 */
type FormatFigures<T> = { none: T } & Partial<Record<ExpertQuantizationFormat, T>>;
export interface QuantizedBenchResult {
  /** The quantized formats compared with float32 (int4 with its block size). */
  compared: ExpertQuantization[];
  accuracy: FormatFigures<{ bitsPerToken: number; relativeToFloat32: number; tokens: number }>;
  profiles: FormatFigures<{ perTokenMsOneThread: number }>;
  shapes: Array<{ shape: string; sloMs: number; rows: QuantizedPaperRow[] }>;
}

/** float32 and the compared formats; int4 at block 32 unless `--quantize-block` said otherwise. */
export function quantizedRowFormats(quantization: ExpertQuantization | undefined): ExpertQuantization[] {
  if (quantization && quantization.format !== 'none') return [quantization];
  return [{ format: 'int8' }, { format: 'int4', blockSize: 32 }];
}

/** Top-1 expert counts of google/switch-base-128 per encoder layer (6 layers × 128 experts). */
function switchBaseCounts(fixturesDir: string): number[][] {
  const file = join(fixturesDir, 'data/real-routing/switch-base-128-expert-counts.json');
  const json = parseJson(readFileSync(file, 'utf8'), file) as {
    expert_usage_by_layer: Record<string, Record<string, number>>;
  };
  return Object.values(json.expert_usage_by_layer).map((layer) => Object.values(layer));
}

export async function runQuantizedRows(options: {
  fixturesDir: string;
  shapes: ReadonlyArray<{ shape: string; sloMs: number }>;
  tokensPerBatch: number;
  /** Poisson batches per second the plans assume (default 0.1). */
  arrivalRatePerS?: number;
  maxEvaluations: number;
  quick?: boolean;
  /** The quantized format beside float32 (`bench paper --quantize`); default int8 and int4 (block 32). */
  quantization?: ExpertQuantization | undefined;
  /**
   * Bits per byte per format measured already (e.g. `switchyard eval --json` over the same held-out
   * split): used instead of evaluating the bundled model again.
   */
  bitsPerByte?: Partial<Record<ExpertQuantizationFormat, { bitsPerToken: number; tokens: number }>>;
  onProgress?: (message: string) => void;
}): Promise<QuantizedBenchResult> {
  const progress = options.onProgress ?? (() => {});
  const compared = quantizedRowFormats(options.quantization);
  const formats: Array<{ format: ExpertQuantizationFormat; quantization: ExpertQuantization | undefined }> = [
    { format: 'none', quantization: undefined },
    ...compared.map((quantization) => ({ format: quantization.format, quantization })),
  ];
  const int4BlockSize = compared.find((q) => q.format === 'int4')?.blockSize ?? 32;
  const computeByFormat = {} as FormatFigures<ComputeProfile>;
  const profiles = {} as QuantizedBenchResult['profiles'];
  for (const { format, quantization } of formats) {
    progress(`quantized rows: profiling the 768×3072 expert in ${format}`);
    const compute = await profilePaperExpert({ quantization, repetitions: options.quick ? 1 : 3 });
    computeByFormat[format] = compute;
    const knots = compute.curves[0]!.knots;
    const last = knots[knots.length - 1]!;
    profiles[format] = { perTokenMsOneThread: last.durationMs / last.tokens };
  }
  // Accuracy on the bundled model: held-out last 10 % of tinyshakespeare (a slice of it with --quick).
  const text = readFileSync(join(options.fixturesDir, 'data/tinyshakespeare.txt'));
  const start = Math.floor(text.length * 0.9);
  const heldOut = text.subarray(start, options.quick ? start + 4096 : undefined);
  const accuracy = {} as QuantizedBenchResult['accuracy'];
  for (const { format, quantization } of formats) {
    const given = options.bitsPerByte?.[format];
    if (given) {
      accuracy[format] = { bitsPerToken: given.bitsPerToken, relativeToFloat32: 1, tokens: given.tokens };
      continue;
    }
    progress(`quantized rows: bits per byte of shakespeare-mixtral-8x2 in ${format}`);
    const model = await loadModel(join(options.fixturesDir, 'checkpoints/shakespeare-mixtral-8x2'), {
      quantization,
    });
    try {
      const result = await evaluateLikelihood(model, heldOut);
      accuracy[format] = { bitsPerToken: result.bitsPerToken, relativeToFloat32: 1, tokens: result.tokens };
    } finally {
      await model.close();
    }
  }
  for (const { format } of formats) {
    const figures = accuracy[format]!;
    figures.relativeToFloat32 = figures.bitsPerToken / accuracy.none.bitsPerToken;
  }
  const shapes: QuantizedBenchResult['shapes'] = [];
  for (const { shape, sloMs } of options.shapes) {
    progress(`quantized rows: planning ${shape} per format`);
    shapes.push({
      shape,
      sloMs,
      rows: await quantizedPaperRows({
        shape,
        sourceCounts: switchBaseCounts(options.fixturesDir),
        computeByFormat,
        sloMs,
        tokensPerBatch: options.tokensPerBatch,
        arrivalRatePerS: options.arrivalRatePerS ?? 0.1,
        maxEvaluations: options.maxEvaluations,
        int4BlockSize,
        accuracy,
      }),
    });
  }
  return { compared, accuracy, profiles, shapes };
}

/** The quantized rows as a markdown section of the paper benchmark's report. */
export function quantizedRowsMarkdown(result: QuantizedBenchResult): string[] {
  const lines = [
    '',
    `## Quantized experts (float32 vs ${result.compared.map((q) => (q.format === 'int4' ? `int4 block ${q.blockSize ?? 32}` : q.format)).join(' vs ')})`,
    '',
    `Each shape planned per expert format (Switchyard BO) at the float32 rows' SLO, with the 768×3,072 expert profiled in that format on this machine. Accuracy: bits per byte of shakespeare-mixtral-8x2 over ${result.accuracy.none.tokens.toLocaleString('en-US')} held-out tokens of tinyshakespeare (the paper shapes have no trained weights).`,
    '',
    '| shape | format | bytes/expert | $/M tokens | vs float32 | GB-s/batch | latency ms | SLO met | bits/byte | vs float32 |',
    '|---|---|---:|---:|---:|---:|---:|---|---:|---:|',
  ];
  for (const shape of result.shapes)
    for (const row of shape.rows)
      lines.push(
        `| ${shape.shape} | ${row.format === 'none' ? 'float32' : row.format} | ${row.bytesPerExpert.toLocaleString('en-US')} | ${row.costUsdPerMillionTokens.toExponential(3)} | ${(row.costRelativeToFloat32 * 100).toFixed(1)} % | ${row.gbSecondsPerBatch.toFixed(3)} | ${Math.round(row.latencyMs)} | ${row.sloMet ? 'yes' : 'NO'} | ${row.accuracy?.bitsPerToken.toFixed(4) ?? '—'} | ${row.accuracy ? `${((row.accuracy.relativeToFloat32 - 1) * 100).toFixed(2)} %` : '—'} |`,
      );
  return lines;
}
