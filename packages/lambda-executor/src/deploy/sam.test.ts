import { buildPlan } from '@switchyard/testing/plans';
import { describe, expect, it } from 'vitest';
import { samTemplate } from './sam.js';

const plan = buildPlan({
  model: { name: 'm' },
  layers: [
    {
      layer: 0,
      functions: [{ name: 'g0', experts: [0, 1], memoryMB: 2048, replicas: 2, reservedConcurrency: 4 }],
    },
  ],
});

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
