import type { DeploymentPlan } from '@switchyard/core';

/** One function a plan asks for: a replica of one expert group. */
export interface DesiredFunction {
  functionName: string;
  /** The group's name, shared by its replicas (and their code). */
  baseName: string;
  layer: number;
  experts: number[];
  memoryMB: number;
  reservedConcurrency: number | undefined;
  /** Provisioned concurrency on the `live` alias; undefined = none. */
  provisionedConcurrency: number | undefined;
  /** The function's instruction set: its own `arch`, else the plan's. */
  arch: 'x86_64' | 'arm64';
}

/** Every function of a plan, one per `functionNames` entry, experts in ascending order. */
export function desiredFunctions(plan: DeploymentPlan): DesiredFunction[] {
  return plan.layers.flatMap((layer) =>
    layer.functions.flatMap((fn) =>
      fn.functionNames.map((functionName) => ({
        functionName,
        baseName: fn.name,
        layer: layer.layer,
        experts: [...fn.experts].sort((a, b) => a - b),
        memoryMB: fn.memoryMB,
        reservedConcurrency: fn.reservedConcurrency,
        provisionedConcurrency: fn.provisionedConcurrency,
        arch: fn.arch ?? plan.arch,
      })),
    ),
  );
}
