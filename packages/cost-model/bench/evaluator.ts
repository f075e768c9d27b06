/**
 * How fast the planner's inner loop is, and what the measured profile says a plan costs against the
 * baselines. Prints tables and writes bench-results/cost-model-evaluator.json.
 *
 *   node --conditions=@switchyard/source --import tsx packages/cost-model/bench/evaluator.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DeploymentPlan, deploymentPlanSchema, type TransportMethod } from '@switchyard/core';
import { CostEvaluator, emptyFunctionEstimate } from '../src/evaluator.js';
import {
  cpuClusterBaseline,
  lambdaMlBaseline,
  loadComputeProfile,
  planCost,
  powerTuningBaseline,
  resolveRates,
} from '../src/index.js';
import { transportParametersSchema } from '../src/latency.js';
import { paperMemoryOptionsMB } from '../src/memory.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const compute = loadComputeProfile(resolve(root, 'fixtures/profiles/shakespeare-mixtral-8x2.json'));
const transport = transportParametersSchema.parse({});

// 1. Inner-loop speed: evaluateFunction over every (method, memory, replicas, tokens) candidate.
const evaluator = new CostEvaluator({
  rates: resolveRates(),
  compute,
  transport,
  hiddenSize: 128,
  expertIntermediateSize: 256,
});
const out = emptyFunctionEstimate();
const methods: TransportMethod[] = ['s3-pipelined', 's3', 'direct'];
let checksum = 0;
let evaluations = 0;
const started = performance.now();
while (performance.now() - started < 1000) {
  for (const method of methods)
    for (const memoryMB of paperMemoryOptionsMB)
      for (let replicas = 1; replicas <= 8; replicas *= 2) {
        evaluator.evaluateFunction(method, 2560 + (evaluations % 7), replicas, memoryMB, 256, 393_216, out);
        checksum += out.totalUsd;
        evaluations++;
      }
}
const elapsedS = (performance.now() - started) / 1000;
const perSecond = evaluations / elapsedS;

// 2. A paper-shaped plan: 4 layers × 8 experts, 10,240 tokens, top-2, skewed load, every expert at
// 1,024 MB with replicas for the two hottest.
const loads = [0.23, 0.18, 0.15, 0.12, 0.11, 0.1, 0.08, 0.03];
function paperPlan(): DeploymentPlan {
  const tokensPerBatch = 10_240;
  return deploymentPlanSchema.parse({
    kind: 'switchyard.deployment-plan',
    version: 1,
    createdAt: new Date(0).toISOString(),
    strategy: 'manual',
    model: {
      name: 'shakespeare-mixtral-8x2',
      fingerprint: 'bench',
      architecture: 'mixtral',
      hiddenSize: 128,
      expertIntermediateSize: 256,
      numExperts: 8,
      topK: 2,
      bytesPerExpert: 3 * 128 * 256 * 4,
    },
    workload: { tokensPerBatch, sloMs: 2000 },
    priceTable: { version: 'x', date: 'x' },
    layers: [0, 1, 2, 3].map((layer) => ({
      layer,
      method: 's3-pipelined',
      beta: 512,
      functions: loads.map((_, expert) => {
        const replicas = expert < 2 ? 2 : 1;
        return {
          name: `l${layer}-e${expert}`,
          experts: [expert],
          memoryMB: 1024,
          replicas,
          functionNames: Array.from({ length: replicas }, (_, r) => `l${layer}-e${expert}-r${r}`),
        };
      }),
      experts: loads.map((share, expert) => {
        const tokens = Math.round(share * tokensPerBatch * 2);
        return {
          expert,
          functionIndex: expert,
          predictedTokens: tokens,
          predictedTokensLow: tokens,
          predictedTokensHigh: tokens,
        };
      }),
    })),
    predicted: { costUsdPerBatch: 0, latencyMs: 0, computeUsd: 0, requestUsd: 0, sloMet: true },
  });
}
const plan = paperPlan();
const profile = { compute, transport };
const planStarted = performance.now();
const report = planCost(plan, {}, profile);
const planCostMs = performance.now() - planStarted;
const rows = [
  { name: 'manual plan (1,024 MB, pipelined)', ...pick(report) },
  ...[
    lambdaMlBaseline(plan, {}, profile),
    powerTuningBaseline(plan, {}, profile),
    cpuClusterBaseline(plan, {}, profile),
  ].map((baseline) => ({ name: baseline.name, ...pick(baseline) })),
];

function pick(result: {
  costUsdPerBatch: number;
  costUsdPerMillionTokens: number;
  latencyMs: number;
  throughputTokensPerS: number;
}) {
  return {
    costUsdPerBatch: result.costUsdPerBatch,
    usdPerMillionTokens: result.costUsdPerMillionTokens,
    latencyMs: result.latencyMs,
    tokensPerS: result.throughputTokensPerS,
  };
}

console.log(
  `\nCostEvaluator.evaluateFunction: ${Math.round(perSecond).toLocaleString('en-US')} evaluations/s (${evaluations.toLocaleString('en-US')} in ${elapsedS.toFixed(2)} s; checksum ${checksum.toExponential(3)})`,
);
console.log(
  `planCost on a 4-layer × 8-expert plan: ${planCostMs.toFixed(2)} ms (first call, includes zod parsing)\n`,
);
console.log(' baseline                            $/batch        $/M tokens   latency ms   tokens/s');
for (const row of rows)
  console.log(
    ` ${row.name.padEnd(34)} ${row.costUsdPerBatch.toExponential(3).padStart(10)} ${row.usdPerMillionTokens.toFixed(4).padStart(14)} ${row.latencyMs.toFixed(1).padStart(12)} ${row.tokensPerS.toFixed(0).padStart(10)}`,
  );
console.log(
  `\nprice table ${report.priceTable.version} (${report.priceTable.date}); transport parameters are defaults, not calibrated\n`,
);

const resultsPath = resolve(root, 'bench-results/cost-model-evaluator.json');
mkdirSync(dirname(resultsPath), { recursive: true });
writeFileSync(
  resultsPath,
  `${JSON.stringify({ evaluationsPerSecond: perSecond, evaluations, planCostMs, rows, priceTable: report.priceTable }, null, 2)}\n`,
);
console.log(`wrote ${resultsPath}`);
