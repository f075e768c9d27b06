import type { ModelSummary } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { createDefaultPlan } from './default-plan.js';

const summary: ModelSummary = {
  name: 'tiny',
  architecture: 'mixtral',
  numLayers: 3,
  hiddenSize: 16,
  vocabSize: 256,
  numAttentionHeads: 2,
  numKeyValueHeads: 1,
  moeLayers: [1, 2],
  numExperts: 5,
  topK: 2,
  expertIntermediateSize: 32,
  numSharedExperts: 0,
  dtype: 'F32',
  parameters: { total: 1, perExpert: 1, experts: 1, dense: 1 },
  bytesPerExpert: 6144,
  fingerprint: 'sha256:abcdef0123456789',
};

describe('createDefaultPlan', () => {
  it('deploys one function per expert of every MoE layer by default', () => {
    const plan = createDefaultPlan(summary);
    expect(plan.layers.map((layer) => layer.layer)).toEqual([1, 2]);
    expect(plan.layers[0]!.functions.map((fn) => fn.functionNames[0])).toEqual([
      'switchyard-abcdef01-l1-e0-r0',
      'switchyard-abcdef01-l1-e1-r0',
      'switchyard-abcdef01-l1-e2-r0',
      'switchyard-abcdef01-l1-e3-r0',
      'switchyard-abcdef01-l1-e4-r0',
    ]);
    expect(plan.layers[0]!.functions[0]!.memoryMB).toBe(1769);
  });

  it('packs consecutive experts into functions and keeps every expert mapped to its holder', () => {
    const plan = createDefaultPlan(summary, { expertsPerFunction: 2, replicas: 3 });
    const layer = plan.layers[1]!;
    expect(layer.functions.map((fn) => fn.experts)).toEqual([[0, 1], [2, 3], [4]]);
    expect(layer.functions[2]!.functionNames).toHaveLength(3);
    for (const expert of layer.experts)
      expect(layer.functions[expert.functionIndex]!.experts).toContain(expert.expert);
  });
});
