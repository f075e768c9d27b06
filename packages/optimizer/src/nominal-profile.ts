import type { ComputeProfile } from '@switchyard/cost-model';

/**
 * A compute profile estimated from FLOPs, for planning before anything was measured: an expert
 * FFN costs about 2·(matrices)·H·F FLOPs per token; fp32 throughput is taken as 74 GFLOP/s on one
 * thread and 141 on two (midpoints of the plain-MatMul figures in DESIGN.md §7, this machine), so the
 * Amdahl parallel fraction is 2·(1 − 74/141). Replace it with a measured profile
 * (`fitComputeProfile`) for real plans.
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
  const parallelFraction = 2 * (1 - oneThreadGflops / twoThreadGflops);
  return {
    kind: 'switchyard.compute-profile',
    version: 1,
    createdAt: '2026-11-28T00:00:00.000Z',
    subject: {
      model: `${shape.name} (nominal: FLOPs at DESIGN.md §7 MatMul throughput, not measured)`,
      hiddenSize: shape.hiddenSize,
      intermediateSize: shape.expertIntermediateSize,
    },
    machine: { description: 'nominal 2-core EPYC figures from DESIGN.md §7', logicalCpus: 2 },
    fits: [
      { threads: 1, fixedMs: 0.05, perTokenMs },
      { threads: 2, fixedMs: 0.05, perTokenMs: (flopsPerToken / (twoThreadGflops * 1e9)) * 1000 },
    ],
    scaling: {
      model: 'amdahl',
      measured: true,
      parallelFractionFixed: 0,
      parallelFractionPerToken: parallelFraction,
      overheadPerThreadFixed: 0,
      overheadPerThreadPerToken: 0,
    },
    points: [],
  };
}
