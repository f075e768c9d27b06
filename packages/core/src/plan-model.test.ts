import { describe, expect, it } from 'vitest';
import { deploymentPlanSchema } from './deployment-plan.js';
import { planModelSchema, toPlanModel } from './plan-model.js';

describe('toPlanModel', () => {
  it("keeps exactly the plan schema's model fields of a larger object", () => {
    const summary = {
      name: 'm',
      fingerprint: 'sha256:1',
      architecture: 'mixtral',
      hiddenSize: 8,
      expertIntermediateSize: 16,
      numExperts: 4,
      topK: 2,
      bytesPerExpert: 1024,
      numLayers: 3,
      moeLayers: [0, 2],
    };
    const model = toPlanModel(summary);
    expect(Object.keys(model).sort()).toEqual(Object.keys(planModelSchema.shape).sort());
    expect(Object.keys(deploymentPlanSchema.shape.model.shape).sort()).toEqual(Object.keys(model).sort());
    expect(planModelSchema.parse(model)).toEqual(model);
  });

  it('carries the quantization when there is one; a plan without it is still valid (float32)', () => {
    const base = {
      name: 'm',
      fingerprint: 'sha256:1',
      architecture: 'mixtral',
      hiddenSize: 8,
      expertIntermediateSize: 16,
      numExperts: 4,
      topK: 2,
      bytesPerExpert: 1024,
    };
    expect(toPlanModel({ ...base, quantization: { format: 'int4', blockSize: 32 } }).quantization).toEqual({
      format: 'int4',
      blockSize: 32,
    });
    expect(planModelSchema.parse(base).quantization).toBeUndefined();
    expect(JSON.parse(JSON.stringify(toPlanModel(base)))).toEqual(base);
    expect(
      planModelSchema.safeParse({ ...base, quantization: { format: 'int8', blockSize: 32 } }).success,
    ).toBe(false);
    expect(planModelSchema.safeParse({ ...base, quantization: { format: 'int3' } }).success).toBe(false);
  });
});
