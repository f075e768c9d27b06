import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ExpertQuantizationFormat, parseJson } from '@switchyard/core';
import type { ComputeProfile } from '@switchyard/cost-model';
import { evaluateLikelihood, loadModel } from '@switchyard/model';
import { type QuantizedPaperRow, quantizedPaperRows } from '@switchyard/optimizer';
import { profilePaperExpert } from './paper-profile.js';

/**
 * The quantized rows of `bench paper` (issue #18), kept apart from the float32 benchmark: the paper
 * expert (768 × 3,072) profiled in float32, int8 and int4 on this machine, each shape planned per
 * format at the float32 rows' SLO, and beside each format the accuracy it costs on the bundled model
 * (bits per byte of shakespeare-mixtral-8x2 over the held-out last 10 % of tinyshakespeare).
 */
export interface QuantizedBenchResult {
  accuracy: Record<
    ExpertQuantizationFormat,
    { bitsPerToken: number; relativeToFloat32: number; tokens: number }
  >;
  profiles: Record<ExpertQuantizationFormat, { perTokenMsOneThread: number }>;
  shapes: Array<{ shape: string; sloMs: number; rows: QuantizedPaperRow[] }>;
}

const formats = ['none', 'int8', 'int4'] as const;

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
  onProgress?: (message: string) => void;
}): Promise<QuantizedBenchResult> {
  const progress = options.onProgress ?? (() => {});
  const computeByFormat = {} as Record<ExpertQuantizationFormat, ComputeProfile>;
  const profiles = {} as QuantizedBenchResult['profiles'];
  for (const format of formats) {
    progress(`quantized rows: profiling the 768×3072 expert in ${format}`);
    computeByFormat[format] = await profilePaperExpert({
      quantization:
        format === 'none' ? undefined : format === 'int4' ? { format, blockSize: 32 } : { format },
      repetitions: options.quick ? 1 : 3,
    });
    const knots = computeByFormat[format].curves[0]!.knots;
    const last = knots[knots.length - 1]!;
    profiles[format] = { perTokenMsOneThread: last.durationMs / last.tokens };
  }
  // Accuracy on the bundled model: held-out last 10 % of tinyshakespeare (a slice of it with --quick).
  const text = readFileSync(join(options.fixturesDir, 'data/tinyshakespeare.txt'));
  const start = Math.floor(text.length * 0.9);
  const heldOut = text.subarray(start, options.quick ? start + 4096 : undefined);
  const accuracy = {} as QuantizedBenchResult['accuracy'];
  for (const format of formats) {
    progress(`quantized rows: bits per byte of shakespeare-mixtral-8x2 in ${format}`);
    const model = await loadModel(join(options.fixturesDir, 'checkpoints/shakespeare-mixtral-8x2'), {
      quantization:
        format === 'none' ? undefined : format === 'int4' ? { format, blockSize: 32 } : { format },
    });
    try {
      const result = await evaluateLikelihood(model, heldOut);
      accuracy[format] = { bitsPerToken: result.bitsPerToken, relativeToFloat32: 1, tokens: result.tokens };
    } finally {
      await model.close();
    }
  }
  for (const format of formats)
    accuracy[format].relativeToFloat32 = accuracy[format].bitsPerToken / accuracy.none.bitsPerToken;
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
        accuracy,
      }),
    });
  }
  return { accuracy, profiles, shapes };
}

/** The quantized rows as a markdown section of the paper benchmark's report. */
export function quantizedRowsMarkdown(result: QuantizedBenchResult): string[] {
  const lines = [
    '',
    '## Quantized experts (float32 vs int8 vs int4)',
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
