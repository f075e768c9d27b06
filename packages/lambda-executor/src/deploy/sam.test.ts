import { describe, expect, it } from 'vitest';
import { samTemplate } from './sam.js';

const plan = {
  kind: 'switchyard.deployment-plan',
  version: 1,
  createdAt: '2026-11-28T00:00:00Z',
  strategy: 'manual',
  model: {
    name: 'm',
    fingerprint: 'f',
    architecture: 'mixtral',
    hiddenSize: 8,
    expertIntermediateSize: 16,
    numExperts: 2,
    topK: 1,
    bytesPerExpert: 0,
  },
  workload: { tokensPerBatch: 8, sloMs: 100 },
  priceTable: { version: 'v', date: 'd' },
  layers: [
    {
      layer: 0,
      method: 'direct',
      beta: 8,
      functions: [
        {
          name: 'g0',
          experts: [0, 1],
          memoryMB: 2048,
          replicas: 2,
          functionNames: ['g0-r0', 'g0-r1'],
          reservedConcurrency: 4,
        },
      ],
      experts: [
        { expert: 0, functionIndex: 0, predictedTokens: 1, predictedTokensLow: 0, predictedTokensHigh: 2 },
        { expert: 1, functionIndex: 0, predictedTokens: 1, predictedTokensLow: 0, predictedTokensHigh: 2 },
      ],
    },
  ],
  predicted: { costUsdPerBatch: 0, latencyMs: 0, computeUsd: 0, requestUsd: 0, sloMet: true },
};

describe('samTemplate', () => {
  it('declares one function per replica with the plan memory and reserved concurrency', () => {
    const template = samTemplate(plan);
    expect(template.match(/Type: AWS::Serverless::Function/g)).toHaveLength(2);
    expect(template).toContain('FunctionName: g0-r1');
    expect(template).toContain('MemorySize: 2048');
    expect(template).toContain('ReservedConcurrentExecutions: 4');
    expect(template).toContain('CodeUri: functions/g0/');
  });
});
