import { computeTimeAtThreadsMs, poissonTraffic, type TrafficScenario } from '@switchyard/cost-model';
import { describe, expect, it } from 'vitest';
import { forecastFromBatches } from './load-forecast.js';
import { nominalComputeProfile } from './nominal-profile.js';
import { paperRouting } from './paper-routing.js';
import { paperShape } from './paper-shapes.js';
import { batchCostFunction, inProcessThroughput, paperTrafficComparison } from './paper-traffic.js';
import { PlanningProblem } from './planning-problem.js';

const model = { ...paperShape('bert-moe-12x4'), name: 'test', moeLayers: [0, 1] };
const compute = nominalComputeProfile(model);
const routing = paperRouting({
  domains: [{ name: 'a', layers: [[900, 50, 300, 20, 10, 400]] }],
  calibrationDomains: ['a'],
  numLayers: 2,
  numExperts: 4,
  topK: 1,
  tokensPerBatch: 2048,
  calibrationBatchesPerDomain: 3,
  heldOutBatchesPerDomain: 3,
  seed: 2,
});
const problem = new PlanningProblem({
  model,
  forecast: forecastFromBatches(
    routing.calibration.map((batch) => batch.loads),
    { tokensPerBatch: 2048 },
  ),
  costProfile: { compute },
  workload: { tokensPerBatch: 2048, sloMs: 5000 },
});
const configuration = problem.solver.solve({
  beta: 64,
  loadQuantile: 0.5,
  packingThreshold: 0,
  sloHeadroom: 0,
}).configuration!;

describe('batchCostFunction', () => {
  it('prices a full batch as the held-out batches cost and a partial one by the scaled batches', () => {
    const cost = batchCostFunction(problem.solver, configuration, routing.heldOut, 2048);
    const full = problem.solver.evaluateOnBatches(
      configuration,
      routing.heldOut.map((batch) => batch.loads),
    ).meanCostUsd;
    expect(cost(2048)).toBeCloseTo(full, 15);
    expect(cost(0)).toBe(0);
    // A partial batch still invokes the functions: more than its share of a full batch's cost.
    expect(cost(256)).toBeGreaterThan((256 / 2048) * full);
    expect(cost(256)).toBeLessThan(full);
  });
});

describe('inProcessThroughput', () => {
  it('is tokens per batch over the one-thread vCPU-seconds of its expert calls', () => {
    let ms = 0;
    for (const batch of routing.heldOut)
      for (const layer of batch.loads)
        for (const tokens of layer) ms += computeTimeAtThreadsMs(compute, tokens, 1);
    expect(inProcessThroughput(compute, routing.heldOut, 2048)).toBeCloseTo(
      2048 / (ms / routing.heldOut.length / 1000),
      9,
    );
  });
});

describe('paperTrafficComparison', () => {
  const scenarios: TrafficScenario[] = [
    {
      name: 'poisson',
      description: 'test stream',
      parameters: {},
      at: (rateScale) =>
        poissonTraffic({
          requestsPerS: rateScale,
          durationS: 600,
          sizes: [{ promptTokens: 1000, outputTokens: 20 }],
          seed: 4,
        }),
    },
  ];
  const serverless = {
    usdForBatch: batchCostFunction(problem.solver, configuration, routing.heldOut, 2048),
    tokensPerBatch: 2048,
    label: 'test',
  };
  const inProcess = { engine: 'in-process', tokensPerVcpuSecond: 500, source: 'test' };
  const run = (engines: { engine: string; tokensPerVcpuSecond: number; source: string }[]) =>
    paperTrafficComparison(
      {
        scenarios,
        rateScales: [0.01, 0.1, 1, 10],
        headline: { scenario: 'poisson', rateScale: 1 },
        maxBatchWaitS: 10,
        cpu: { vcpusPerInstance: 16 },
        engines,
      },
      serverless,
      inProcess,
    );

  it('runs the CPU baselines on the faster engine and says by how much it is faster', () => {
    const slower = run([{ engine: 'llama.cpp', tokensPerVcpuSecond: 250, source: 'test' }]);
    expect(slower.cpuEngine.engine).toBe('in-process');
    expect(slower.engineSpeedRatio).toBeCloseTo(2, 12);
    const faster = run([{ engine: 'llama.cpp', tokensPerVcpuSecond: 1500, source: 'test' }]);
    expect(faster.cpuEngine.engine).toBe('llama.cpp');
    expect(faster.engineSpeedRatio).toBeCloseTo(3, 12);
    // A faster CPU engine is a cheaper right-sized pool, so Switchyard saves less against it.
    expect(faster.headline.cpu.rightSized.usd).toBeLessThan(slower.headline.cpu.rightSized.usd);
    expect(faster.headline.saving.rightSized).toBeLessThan(slower.headline.saving.rightSized);
  });

  it('reports the headline stream and a saving curve with its break-even points', () => {
    const result = run([]);
    const h = result.headline;
    for (const key of ['static', 'rightSized', 'autoscaled'] as const)
      expect(h.saving[key]).toBeCloseTo(1 - h.serverless.usd / h.cpu[key].usd, 12);
    const [curve] = result.curves;
    expect(curve!.points.map((point) => point.rateScale)).toEqual([0.01, 0.1, 1, 10]);
    // An always-on cluster idles at low load: Switchyard is cheaper there, the cluster at high load.
    expect(curve!.points[0]!.saving.static).toBeGreaterThan(0);
    if (curve!.breakEven.static.kind === 'crossing') {
      expect(curve!.breakEven.static.direction).toBe('serverless-cheaper-below');
      expect(curve!.breakEven.static.utilization).toBeGreaterThan(0);
    } else expect(curve!.breakEven.static.kind).toBe('always');
    expect(() =>
      paperTrafficComparison(
        {
          scenarios,
          rateScales: [1],
          headline: { scenario: 'trace', rateScale: 1 },
          maxBatchWaitS: 10,
          cpu: {},
        },
        serverless,
        inProcess,
      ),
    ).toThrow(/headline scenario "trace"/);
  });
});
