import {
  type DeploymentPlan,
  type ExpertQuantization,
  type ExpertQuantizationFormat,
  weightMatrixBytes,
} from '@switchyard/core';
import { type ComputeProfile, defaultPriceTable, type PriceTable } from '@switchyard/cost-model';
import { forecastFromPopularity } from './load-forecast.js';
import { paperShape, popularityFromCounts } from './paper-shapes.js';
import { planDeployment } from './plan-deployment.js';

/**
 * Quantized rows of the paper benchmark (issue #18): the same shape, forecast, SLO and price table
 * planned once per expert format, each with the compute profile measured for that format and the
 * expert bytes of that format, so $/M tokens of float32, int8 and int4 sit side by side with the
 * accuracy each format costs (measured elsewhere, e.g. bits per byte on the bundled model).
 */
export interface QuantizedPaperRowsInput {
  /** A paper shape, e.g. `bert-moe-12x4`. */
  shape: string;
  sourceCounts: readonly (readonly number[])[];
  /** One measured compute profile per format; `none` (float32) is required, the baseline. */
  computeByFormat: Partial<Record<ExpertQuantizationFormat, ComputeProfile>> & { none: ComputeProfile };
  /** int4's block size (default 32). */
  int4BlockSize?: 32 | 128;
  /** The SLO every format is planned for (e.g. the float32 benchmark's). */
  sloMs: number;
  tokensPerBatch?: number;
  arrivalRatePerS?: number;
  /** Accuracy per format, e.g. `{ bitsPerToken, relativeToFloat32 }`, copied into the rows. */
  accuracy?: Partial<Record<ExpertQuantizationFormat, { bitsPerToken: number; relativeToFloat32: number }>>;
  strategy?: 'bo' | 'ods';
  seed?: number;
  maxEvaluations?: number;
  prices?: PriceTable;
}

export interface QuantizedPaperRow {
  format: ExpertQuantizationFormat;
  quantization: ExpertQuantization;
  bytesPerExpert: number;
  costUsdPerBatch: number;
  costUsdPerMillionTokens: number;
  gbSecondsPerBatch: number;
  latencyMs: number;
  sloMet: boolean;
  /** Cost relative to the float32 row (1 = the same; < 1 cheaper). */
  costRelativeToFloat32: number;
  /** Total memory of the plan's functions (MB, one replica each counted), a view of what shrank. */
  memoryMBTotal: number;
  accuracy?: { bitsPerToken: number; relativeToFloat32: number };
}

function quantizationOf(format: ExpertQuantizationFormat, blockSize: 32 | 128): ExpertQuantization {
  return format === 'int4' ? { format, blockSize } : { format };
}

function memoryTotal(plan: DeploymentPlan): number {
  return plan.layers.reduce(
    (sum, layer) => sum + layer.functions.reduce((total, fn) => total + fn.memoryMB * fn.replicas, 0),
    0,
  );
}

/** Plans the shape once per format given a profile for it; rows in none, int8, int4 order. */
export async function quantizedPaperRows(input: QuantizedPaperRowsInput): Promise<QuantizedPaperRow[]> {
  const base = paperShape(input.shape);
  const tokensPerBatch = input.tokensPerBatch ?? 10_240;
  const seed = input.seed ?? 0;
  const popularity = popularityFromCounts(input.sourceCounts, {
    numLayers: base.moeLayers.length,
    numExperts: base.numExperts,
    seed,
  });
  const forecast = forecastFromPopularity(popularity, {
    tokensPerBatch,
    topK: base.topK,
    layers: base.moeLayers,
  });
  const rows: QuantizedPaperRow[] = [];
  for (const format of ['none', 'int8', 'int4'] as const) {
    const compute = input.computeByFormat[format];
    if (!compute) continue;
    const quantization = quantizationOf(format, input.int4BlockSize ?? 32);
    const H = base.hiddenSize;
    const F = base.expertIntermediateSize;
    // A paper expert: W₁ H×F + b₁ + W₂ F×H + b₂; the matrices in the format, the biases float32.
    const bytesPerExpert =
      weightMatrixBytes(H, F, quantization) + weightMatrixBytes(F, H, quantization) + 4 * (F + H);
    const plan = await planDeployment({
      model: { ...base, bytesPerExpert, quantization: format === 'none' ? undefined : quantization },
      forecast,
      costProfile: { compute },
      prices: input.prices ?? defaultPriceTable,
      seed,
      createdAt: '2026-11-28T00:00:00Z',
      workload: { tokensPerBatch, sloMs: input.sloMs, arrivalRatePerS: input.arrivalRatePerS ?? 0.1 },
      strategy: input.strategy ?? 'bo',
      maxEvaluations: input.maxEvaluations ?? 40,
    });
    const p = plan.predicted;
    rows.push({
      format,
      quantization,
      bytesPerExpert,
      costUsdPerBatch: p.costUsdPerBatch,
      costUsdPerMillionTokens: p.costUsdPerMillionTokens ?? (p.costUsdPerBatch / tokensPerBatch) * 1e6,
      gbSecondsPerBatch: p.gbSecondsPerBatch ?? 0,
      latencyMs: p.latencyMs,
      sloMet: p.sloMet,
      costRelativeToFloat32: 1,
      memoryMBTotal: memoryTotal(plan),
      accuracy: input.accuracy?.[format],
    });
  }
  const float32 = rows.find((row) => row.format === 'none');
  for (const row of rows)
    row.costRelativeToFloat32 = float32 ? row.costUsdPerBatch / float32.costUsdPerBatch : 1;
  return rows;
}
