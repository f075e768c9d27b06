import type { ComputeProfile } from '@switchyard/cost-model';

/**
 * A compute profile estimated from FLOPs, for planning before anything was measured: an expert
 * FFN costs about 2·(matrices)·H·F FLOPs per token; fp32 throughput is taken as 74 GFLOP/s on one
 * thread and 141 on two (midpoints of one plain MatMul's throughput under onnxruntime on the 2-core
 * EPYC development machine: architecture/optimizer.md, "Nominal compute profile"), with a 0.05 ms
 * fixed part per call at both; other CPU shares follow cost-model's per-knot Amdahl. Replace it with
 * a measured profile (`fitComputeProfile`) for real plans.
 */
export function nominalComputeProfile(shape: {
  name: string;
  hiddenSize: number;
  expertIntermediateSize: number;
  /** 2 for a plain FFN (BERT, GPT-2), 3 for gated (SwiGLU) experts. */
  matrices?: number;
}): ComputeProfile {
  const oneThreadGflops = 74;
  const twoThreadGflops = 141;
  const flopsPerToken = 2 * (shape.matrices ?? 2) * shape.hiddenSize * shape.expertIntermediateSize;
  const perTokenMs = (flopsPerToken / (oneThreadGflops * 1e9)) * 1000;
  const twoThreadPerTokenMs = (flopsPerToken / (twoThreadGflops * 1e9)) * 1000;
  const fixedMs = 0.05;
  // Straight lines (fixed + per-token) at 1 and 2 threads, as two-knot curves.
  const line = (perToken: number) => [
    { tokens: 1, durationMs: fixedMs + perToken },
    { tokens: 10_000, durationMs: fixedMs + perToken * 10_000 },
  ];
  return {
    kind: 'switchyard.compute-profile',
    version: 2,
    createdAt: '2026-11-28T00:00:00.000Z',
    subject: {
      model: `${shape.name} (nominal: FLOPs at a plain MatMul's throughput, architecture/optimizer.md; not measured)`,
      hiddenSize: shape.hiddenSize,
      intermediateSize: shape.expertIntermediateSize,
    },
    machine: { description: 'nominal 2-core EPYC figures (architecture/optimizer.md)', logicalCpus: 2 },
    curves: [
      { threads: 1, knots: line(perTokenMs) },
      { threads: 2, knots: line(twoThreadPerTokenMs) },
    ],
    points: [],
    checks: [],
  };
}
