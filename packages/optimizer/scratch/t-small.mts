import { fitComputeProfile } from '@switchyard/cost-model';
import { runPaperBenchmarkModel } from '../src/paper-benchmark.ts';

const compute = fitComputeProfile(
  [
    { threads: 1, tokens: 100, durationMs: 7 },
    { threads: 1, tokens: 1000, durationMs: 52 },
    { threads: 2, tokens: 100, durationMs: 4.5 },
    { threads: 2, tokens: 1000, durationMs: 31.5 },
  ],
  {
    subject: { model: 'tiny', hiddenSize: 768, intermediateSize: 3072, experts: 'test' },
    machine: { description: 'test', logicalCpus: 2 },
    createdAt: '2026-11-28T00:00:00Z',
  },
);
const domains = [
  {
    name: 'web',
    layers: [
      [900, 50, 300, 20, 10, 400, 5, 100],
      [100, 700, 60, 30, 250, 15, 80, 5],
      [300, 310, 290, 305, 10, 11, 12, 13],
    ],
  },
  {
    name: 'books',
    layers: [
      [700, 80, 500, 40, 10, 300, 15, 90],
      [150, 500, 90, 60, 300, 25, 70, 10],
      [250, 350, 280, 310, 20, 15, 10, 5],
    ],
  },
  {
    name: 'code',
    layers: [
      [50, 900, 20, 600, 10, 40, 300, 5],
      [10, 20, 900, 30, 20, 700, 5, 300],
      [20, 30, 10, 40, 600, 500, 400, 300],
    ],
  },
];
const t0 = performance.now();
const r = await runPaperBenchmarkModel({
  shape: 'bert-moe-12x4',
  domains,
  calibrationDomains: ['web', 'books'],
  compute,
  tokensPerBatch: 2048,
  maxEvaluations: 6,
  sloFactors: [1.1, 1.5, 3],
  calibrationBatchesPerDomain: 4,
  heldOutBatchesPerDomain: 2,
});
console.log((performance.now() - t0) / 1000, r.fastestFeasibleLatencyMs);
console.table(
  r.sloSweep.map((p) => ({
    f: p.factor,
    slo: p.sloMs,
    sy: p.rows.switchyard.latencyMs,
    pl: p.rows.switchyard.planned.latencyMs,
    l: p.throughputLossVsLambdaml.switchyard,
    lp: p.throughputLossVsLambdaml.paperOds,
    lf: p.throughputLossVsLambdaml.exactFixedKnobs,
    att: p.rows.switchyard.billed.sloAttainment,
    lam: r.rows.lambdaml.latencyMs,
  })),
);
