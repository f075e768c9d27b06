import { readFileSync } from 'node:fs';
import { loadComputeProfile } from '@switchyard/cost-model';
import { runPaperBenchmarkModel } from '../src/paper-benchmark.ts';

const shape = process.argv[2] ?? 'bert-moe-12x4';
const evals = Number(process.argv[3] ?? 40);
const json = JSON.parse(
  readFileSync('/work/wt-pb/fixtures/data/real-routing/olmoe-paper-expert-counts.json', 'utf8'),
);
const top1 = json.data.olmoe.expert_counts_top1;
const domains = Object.entries(top1).map(([name, layers]: [string, any]) => ({
  name,
  layers: Object.values(layers).map((counts: any) =>
    Array.from({ length: 64 }, (_, i) => counts[String(i)] ?? 0),
  ),
}));
const compute = loadComputeProfile('/work/wt-pb/fixtures/profiles/paper-expert-768x3072.json');
const t0 = performance.now();
const r = await runPaperBenchmarkModel({
  shape,
  domains,
  compute,
  maxEvaluations: evals,
  onProgress: (m) => console.error(((performance.now() - t0) / 1000).toFixed(1), m),
});
const brief = (row: any) => ({
  key: row.key,
  planned: row.planned.costUsdPerBatch.toExponential(3),
  billed: row.costUsdPerBatch.toExponential(3),
  worst: row.billed.worstCostUsd.toExponential(3),
  lat: Math.round(row.latencyMs),
  pl: Math.round(row.planned.latencyMs),
  att: row.billed.sloAttainment,
  rep: row.billed.memoryRepairs + '/' + row.billed.payloadRepairs,
  ev: row.evaluations,
});
console.log('fastest', r.fastestFeasibleLatencyMs, 'slo', r.sloMs);
console.table(Object.values(r.rows).map(brief));
console.log(r.contributions, {
  savingVsLambdaml: r.savingVsLambdaml,
  savingVsPaper: r.savingVsPaper,
  loss: r.throughputLossVsLambdaml,
});
console.table(
  r.sloSweep.map((p) => ({
    f: p.factor,
    slo: p.sloMs,
    sy: p.rows.switchyard.costUsdPerBatch.toExponential(3),
    paper: p.rows.paperOds.costUsdPerBatch.toExponential(3),
    fixed: p.rows.exactFixedKnobs.costUsdPerBatch.toExponential(3),
    syAtt: p.rows.switchyard.billed.sloAttainment,
    pAtt: p.rows.paperOds.billed.sloAttainment,
    lossSy: p.throughputLossVsLambdaml.switchyard.toFixed(3),
    lossP: p.throughputLossVsLambdaml.paperOds.toFixed(3),
    vsL: p.savingVsLambdaml.toFixed(3),
  })),
);
console.log(
  JSON.stringify({
    m: r.lambdamlSensitivity.measured.saving,
    a: r.lambdamlSensitivity.assumed.saving,
    s: [r.lambdamlSensitivity.measured.twoThreadSpeedup, r.lambdamlSensitivity.assumed.twoThreadSpeedup],
  }),
);
console.log('wall', r.wallTimeS);
for (const key of ['switchyard', 'lambdaml', 'paperOds', 'exactFixedKnobs'] as const)
  console.log(
    key,
    r.sloMs,
    JSON.stringify(
      Object.fromEntries(
        Object.entries(r.rows[key].billed.byDomain).map(([d, v]: any) => [
          d,
          [Math.round(v.meanLatencyMs), v.sloAttainment, v.meanCostUsd.toExponential(3)],
        ]),
      ),
    ),
  );
