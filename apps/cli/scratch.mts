import { readFileSync } from 'node:fs';
import { readRoutingTrace } from '@switchyard/core';
import { loadModel } from '@switchyard/model';
import { planDeployment } from '@switchyard/optimizer';
import { evaluatePredictor, fitPredictor } from '@switchyard/predictor';

let t = Date.now();
const cal = await readRoutingTrace('fixtures/traces/shakespeare-mixtral-8x2/calibration.safetensors');
const held = await readRoutingTrace('fixtures/traces/shakespeare-mixtral-8x2/heldout.safetensors');
console.log('read', Date.now() - t);
t = Date.now();
const predictor = fitPredictor(cal);
console.log('fit', Date.now() - t);
t = Date.now();
const ev = evaluatePredictor(predictor, held);
console.log('eval', Date.now() - t, ev.hitAtK, ev.loadErr, ev.intervalCoverage);
t = Date.now();
const T = 1024;
const pred = predictor.predictLoad({ tokens: held.tokens.slice(0, T) });
console.log('predictLoad', Date.now() - t);
const L = pred.numLayers,
  E = pred.numExperts;
const forecast = {
  tokensPerBatch: T,
  intervalLevel: pred.level,
  layers: Array.from({ length: L }, (_, l) => ({
    layer: l,
    mean: [...pred.mean.subarray(l * E, (l + 1) * E)],
    low: [...pred.low.subarray(l * E, (l + 1) * E)],
    high: [...pred.high.subarray(l * E, (l + 1) * E)],
  })),
};
const model = await loadModel('fixtures/checkpoints/shakespeare-mixtral-8x2');
const profile = JSON.parse(readFileSync(process.argv[2]!, 'utf8'));
t = Date.now();
for (const slo of [200, 500, 2000]) {
  try {
    const plan = await planDeployment({
      model: model.summary,
      forecast,
      costProfile: { compute: profile },
      workload: { tokensPerBatch: T, sloMs: slo },
      strategy: 'bo',
      seed: 1,
    });
    console.log(
      'plan',
      slo,
      Date.now() - t,
      JSON.stringify(plan.predicted),
      JSON.stringify(plan.baselines),
      plan.search?.evaluations,
      plan.layers
        .map((l) => l.functions.map((f) => `${f.experts.join('+')}:${f.memoryMB}x${f.replicas}`).join(' '))
        .join(' | '),
    );
  } catch (e) {
    console.log('plan', slo, e.message);
  }
  t = Date.now();
}
await model.close();
