import { readFileSync } from 'node:fs';
import {
  azureTraceFileNames,
  loadAzureTrace,
  loadComputeProfile,
  mergeTraffic,
  trafficScenarios,
} from '@switchyard/cost-model';
import { runPaperBenchmarkModel } from '../src/paper-benchmark.ts';

const shape = process.argv[2] ?? 'bert-moe-12x4';
const evals = Number(process.argv[3] ?? 40);
const json = JSON.parse(
  readFileSync('/work/wt-pb/fixtures/data/real-routing/olmoe-paper-expert-counts.json', 'utf8'),
);
const top1 = json.data.olmoe.expert_counts_top1;
const domains = Object.entries(top1).map(([name, layers]: [string, any]) => ({
  name,
  layers: Object.values(layers).map((c: any) => Array.from({ length: 64 }, (_, i) => c[String(i)] ?? 0)),
}));
const compute = loadComputeProfile('/work/wt-pb/fixtures/profiles/paper-expert-768x3072.json');
const dir = '/work/wt-pb/fixtures/data/azure-llm-inference-2023/';
const base = mergeTraffic(
  [loadAzureTrace(dir + azureTraceFileNames.code), loadAzureTrace(dir + azureTraceFileNames.conversation)],
  'azure-llm-2023',
);
const memo = new Map();
const scenarios = trafficScenarios(base).map((s) => ({
  ...s,
  at: (x: number) => {
    const k = s.name + x;
    if (!memo.has(k)) memo.set(k, s.at(x));
    return memo.get(k);
  },
}));
const t0 = performance.now();
const r = await runPaperBenchmarkModel({
  shape,
  domains,
  compute,
  maxEvaluations: evals,
  sloFactors: [1.5],
  onProgress: (m) => console.error(((performance.now() - t0) / 1000).toFixed(1), m),
  traffic: {
    scenarios,
    rateScales: [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3],
    maxBatchWaitS: 10,
    cpu: { instanceType: 'm6a.32xlarge', vcpusPerInstance: 16 },
  },
});
const c = r.cpu!;
console.log(c.engines, c.cpuPricing);
console.log(
  'headline',
  c.headline.traffic.batchesPerS,
  c.headline.serverless.usd,
  Object.fromEntries(
    Object.entries(c.headline.cpu).map(([k, v]: any) => [k, [v.usd, v.utilization, v.maxInstances]]),
  ),
  c.headline.saving,
);
for (const curve of c.curves) {
  console.log(curve.scenario, JSON.stringify(curve.breakEven));
  console.table(
    curve.points.map((p) => ({
      x: p.rateScale,
      bps: p.traffic.batchesPerS.toFixed(4),
      sls: p.serverlessUsd.toFixed(2),
      st: p.cpu.static.usd.toFixed(2),
      rs: p.cpu.rightSized.usd.toFixed(2),
      au: p.cpu.autoscaled.usd.toFixed(2),
      uS: p.cpu.static.utilization.toFixed(3),
      sv: p.saving.static.toFixed(3),
    })),
  );
}
console.log('wall', r.wallTimeS);
