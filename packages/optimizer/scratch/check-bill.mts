import { readFileSync } from 'node:fs';
import { loadComputeProfile } from '@switchyard/cost-model';
import { forecastFromBatches } from '../src/load-forecast.ts';
import { paperRouting } from '../src/paper-routing.ts';
import { paperShape } from '../src/paper-shapes.ts';
import { planDeployment } from '../src/plan-deployment.ts';
import { PlanningProblem } from '../src/planning-problem.ts';
import { billOnBatches, configurationFromPlan } from '../src/realised-bill.ts';

const json = JSON.parse(
  readFileSync('/work/wt-pb/fixtures/data/real-routing/olmoe-paper-expert-counts.json', 'utf8'),
);
const top1 = json.data.olmoe.expert_counts_top1;
const domains = Object.entries(top1).map(([name, layers]: [string, any]) => ({
  name,
  layers: Object.values(layers).map((c: any) => Array.from({ length: 64 }, (_, i) => c[String(i)] ?? 0)),
}));
const compute = loadComputeProfile('/work/wt-pb/fixtures/profiles/paper-expert-768x3072.json');
const model = paperShape('bert-moe-12x4');
const routing = paperRouting({
  domains,
  calibrationDomains: ['c4', 'wikipedia', 'book'],
  numLayers: 12,
  numExperts: 4,
  topK: 1,
  tokensPerBatch: 10240,
});
const forecast = forecastFromBatches(
  routing.calibration.map((b) => b.loads),
  { tokensPerBatch: 10240 },
);
console.log(
  forecast.layers
    .slice(0, 3)
    .map((l) => [l.mean.map(Math.round), l.low.map(Math.round), l.high.map(Math.round)]),
);
const opts = {
  model,
  forecast,
  costProfile: { compute },
  workload: { tokensPerBatch: 10240, sloMs: 9433 },
  strategy: 'bo' as const,
  maxEvaluations: 20,
};
const plan = await planDeployment(opts);
const problem = new PlanningProblem(opts);
const conf = configurationFromPlan(plan, model.bytesPerExpert);
const meanBatch = [{ domain: 'mean', loads: forecast.layers.map((l) => l.mean.map(Math.round)) }];
const bill = billOnBatches(problem.solver, conf, meanBatch);
console.log(
  'planned',
  plan.predicted.latencyMs,
  plan.predicted.costUsdPerBatch,
  'billed at mean',
  bill.meanLatencyMs,
  bill.meanCostUsd,
  bill.payloadRepairs,
  bill.memoryRepairs,
);
console.log(
  plan.layers
    .slice(0, 2)
    .map((l) => ({
      m: l.method,
      b: l.beta,
      lat: l.predictedLatencyMs,
      f: l.functions.map((f) => [f.experts, f.memoryMB, f.replicas]),
    })),
  plan.workload,
);
const c4 = routing.heldOut.filter((b) => b.domain === 'c4').slice(0, 1);
console.log(c4[0].loads.slice(0, 3));
const b2 = billOnBatches(problem.solver, conf, c4);
console.log('c4', b2.meanLatencyMs, b2.payloadRepairs);
