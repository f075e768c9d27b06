import { readFileSync } from 'node:fs';
import { loadComputeProfile } from '@switchyard/cost-model';
import { forecastFromBatches } from '../src/load-forecast.ts';
import { planPaperMethod } from '../src/paper-method.ts';
import { paperRouting } from '../src/paper-routing.ts';
import { paperShape } from '../src/paper-shapes.ts';
import { planDeployment } from '../src/plan-deployment.ts';
import { PlanningProblem } from '../src/planning-problem.ts';

const json = JSON.parse(
  readFileSync('/work/wt-pb/fixtures/data/real-routing/olmoe-paper-expert-counts.json', 'utf8'),
);
const top1 = json.data.olmoe.expert_counts_top1;
const domains = Object.entries(top1).map(([name, layers]: [string, any]) => ({
  name,
  layers: Object.values(layers).map((c: any) => Array.from({ length: 64 }, (_, i) => c[String(i)] ?? 0)),
}));
const compute = loadComputeProfile('/work/wt-pb/fixtures/profiles/paper-expert-768x3072.json');
const model = paperShape('bert-moe-12x8');
const routing = paperRouting({
  domains,
  calibrationDomains: ['c4', 'wikipedia', 'book'],
  numLayers: 12,
  numExperts: 8,
  topK: 1,
  tokensPerBatch: 10240,
});
const cal = routing.calibration.map((b) => b.loads);
const forecast = forecastFromBatches(cal, { tokensPerBatch: 10240 });
const opts = {
  model,
  forecast,
  costProfile: { compute },
  workload: { tokensPerBatch: 10240, sloMs: 9162 },
  maxEvaluations: 40,
};
let t = performance.now();
await planDeployment({ ...opts, strategy: 'bo', batches: cal });
console.log('switchyard bo', (performance.now() - t) / 1000);
t = performance.now();
const problem = new PlanningProblem(opts);
const countTable = model.moeLayers.map((_, l) =>
  Array.from({ length: 8 }, (_, e) => cal.reduce((s, b) => s + b[l][e], 0)),
);
const r = await planPaperMethod({
  problem,
  countTable,
  objectiveBatches: cal,
  solver: 'ods',
  maxEvaluations: 40,
});
console.log('paper bo', (performance.now() - t) / 1000, r.evaluations);
