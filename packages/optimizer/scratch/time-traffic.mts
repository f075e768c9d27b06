import {
  azureTraceFileNames,
  cpuBaselines,
  loadAzureTrace,
  mergeTraffic,
  serverlessBill,
  trafficScenarios,
} from '@switchyard/cost-model';

const dir = '/work/wt-pb/fixtures/data/azure-llm-inference-2023/';
const base = mergeTraffic(
  [loadAzureTrace(dir + azureTraceFileNames.code), loadAzureTrace(dir + azureTraceFileNames.conversation)],
  'azure',
);
for (const s of trafficScenarios(base))
  for (const x of [0.1, 1, 3]) {
    let t = performance.now();
    const tr = s.at(x);
    const g = performance.now() - t;
    t = performance.now();
    cpuBaselines(tr, { tokensPerVcpuSecond: 200, vcpusPerInstance: 16 });
    const c = performance.now() - t;
    t = performance.now();
    serverlessBill(tr, { usdForBatch: (n) => n * 1e-7, maxWaitS: 10 });
    const b = performance.now() - t;
    console.log(s.name, x, tr.arrivalS.length, g.toFixed(0), c.toFixed(0), b.toFixed(0));
  }
