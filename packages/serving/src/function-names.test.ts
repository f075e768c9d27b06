import { type DeploymentPlan, deploymentPlanSchema } from '@switchyard/core';
import { buildPlan, type PlanFunctionSpec } from '@switchyard/testing/plans';
import { describe, expect, it } from 'vitest';
import { keepFunctionNames, planOfFunctions } from './function-names.js';

const plan = (functions: PlanFunctionSpec[]): DeploymentPlan =>
  deploymentPlanSchema.parse(buildPlan({ layers: [{ layer: 0, functions }] }));

describe('keepFunctionNames', () => {
  const serving = plan([
    { name: 'm-l0-e0', experts: [0], memoryMB: 256 },
    { name: 'm-l0-p1x2', experts: [1, 2], memoryMB: 256, replicas: 2 },
    { name: 'm-l0-e3', experts: [3], memoryMB: 256 },
  ]);

  it('keeps the names of groups both plans have, adds replicas after them, names new groups as planned', () => {
    const planned = plan([
      // The same group at another memory size and with a third replica, under the planner's new name.
      { name: 'x-l0-p2x2', experts: [2, 1], memoryMB: 512, replicas: 3 },
      { name: 'm-l0-e0', experts: [0], memoryMB: 256 },
      { name: 'm-l0-e4', experts: [4], memoryMB: 256 },
    ]);
    const naming = keepFunctionNames(serving, planned, 1);
    expect(naming.plan.layers[0]?.functions.map((fn) => [fn.name, fn.functionNames, fn.memoryMB])).toEqual([
      ['m-l0-p1x2', ['m-l0-p1x2-r0', 'm-l0-p1x2-r1', 'm-l0-p1x2-r2'], 512],
      ['m-l0-e0', ['m-l0-e0-r0'], 256],
      ['m-l0-e4', ['m-l0-e4-r0'], 256],
    ]);
    expect(naming.kept).toEqual(['m-l0-p1x2-r0', 'm-l0-p1x2-r1', 'm-l0-e0-r0']);
    expect(naming.created).toEqual(['m-l0-p1x2-r2', 'm-l0-e4-r0']);
    expect(naming.removed).toEqual(['m-l0-e3-r0']);
    expect(deploymentPlanSchema.safeParse(naming.plan).success).toBe(true);
  });

  it('never gives a serving function’s name to other experts: a clashing new group gets -g<generation>', () => {
    // The planner names a pack by its first expert and size: {1, 5} is also "p1x2".
    const planned = plan([
      { name: 'm-l0-p1x2', experts: [1, 5], memoryMB: 256 },
      { name: 'm-l0-e2', experts: [2], memoryMB: 256 },
    ]);
    const naming = keepFunctionNames(serving, planned, 7);
    expect(naming.plan.layers[0]?.functions.map((fn) => fn.functionNames)).toEqual([
      ['m-l0-p1x2-g7-r0'],
      ['m-l0-e2-r0'],
    ]);
    expect(naming.kept).toEqual([]);
    expect(naming.removed).toEqual(['m-l0-e0-r0', 'm-l0-p1x2-r0', 'm-l0-p1x2-r1', 'm-l0-e3-r0']);
  });

  it('keeps names only within the same layer', () => {
    const other = deploymentPlanSchema.parse(
      buildPlan({ layers: [{ layer: 1, functions: [{ name: 'm-l0-e0', experts: [0], memoryMB: 256 }] }] }),
    );
    const naming = keepFunctionNames(serving, other, 2);
    expect(naming.kept).toEqual([]);
    expect(naming.plan.layers[0]?.functions[0]?.functionNames).toEqual(['m-l0-e0-g2-r0']);
  });
});

describe('planOfFunctions', () => {
  const serving = plan([
    { name: 'm-l0-e0', experts: [0], memoryMB: 256 },
    { name: 'm-l0-p1x2', experts: [1, 2], memoryMB: 256, replicas: 3 },
  ]);

  it('keeps exactly the named functions (replicas too), as a valid plan', () => {
    const retired = planOfFunctions(serving, ['m-l0-p1x2-r2', 'm-l0-p1x2-r0']);
    expect(
      retired?.layers.map((layer) => layer.functions.map((fn) => [fn.name, fn.replicas, fn.functionNames])),
    ).toEqual([[['m-l0-p1x2', 2, ['m-l0-p1x2-r0', 'm-l0-p1x2-r2']]]]);
    // The layer's expert map points at the remaining functions only.
    expect(retired?.layers[0]?.experts.map((entry) => [entry.expert, entry.functionIndex])).toEqual([
      [1, 0],
      [2, 0],
    ]);
    expect(deploymentPlanSchema.safeParse(retired).success).toBe(true);
  });

  it('is undefined when no function is named', () => {
    expect(planOfFunctions(serving, [])).toBeUndefined();
    expect(planOfFunctions(serving, ['other-r0'])).toBeUndefined();
  });
});
