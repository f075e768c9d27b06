import type { CostEvaluator, FunctionEstimate } from '@switchyard/cost-model/internal';
import type { BatchEvaluation, Configuration } from './configuration.js';

/** Told which function of which layer (index into the configuration's layers) needed a run-time repair. */
export type RepairListener = (
  layerIndex: number,
  experts: readonly number[],
  kind: 'memory' | 'payload',
) => void;

/**
 * Costs a configuration on sampled batches (per layer, per expert tokens). When a batch brings
 * more tokens than a function's memory holds, or than the direct payload carries, the function is
 * given more replicas at run time — the paper's ⌈M_real/M⌉ / ⌈R_real/D_p⌉ repair — and pays for them.
 * `estimate` is scratch space.
 */
export function evaluateOnBatches(
  evaluator: CostEvaluator,
  configuration: Configuration,
  batches: readonly (readonly (readonly number[])[])[],
  sloMs: number,
  estimate: FunctionEstimate,
  onRepair?: RepairListener,
): BatchEvaluation {
  let totalCost = 0;
  let totalLatency = 0;
  let met = 0;
  let memoryRepairs = 0;
  let payloadRepairs = 0;
  const batchLatenciesMs: number[] = [];
  const batchCostsUsd: number[] = [];
  for (const batch of batches) {
    let batchLatency = 0;
    let batchCost = 0;
    configuration.layers.forEach((layer, l) => {
      const tokensPerExpert = batch[l]!;
      let layerLatency = 0;
      for (const fn of layer.functions) {
        let tokens = 0;
        for (const expert of fn.experts) tokens += tokensPerExpert[expert] ?? 0;
        let replicas = fn.replicas;
        const evaluate = (): void => {
          evaluator.evaluateFunction(
            layer.method,
            tokens,
            replicas,
            fn.memoryMB,
            layer.beta,
            fn.parameterBytes,
            estimate,
          );
        };
        evaluate();
        let repairedMemory = false;
        let repairedPayload = false;
        while ((!estimate.fitsMemory || !estimate.fitsPayload) && replicas < 64 && replicas < tokens) {
          if (!estimate.fitsMemory) repairedMemory = true;
          else repairedPayload = true;
          replicas++;
          evaluate();
        }
        if (repairedMemory) memoryRepairs++;
        if (repairedPayload) payloadRepairs++;
        if (onRepair && (repairedMemory || repairedPayload))
          onRepair(l, fn.experts, repairedMemory ? 'memory' : 'payload');
        totalCost += estimate.totalUsd;
        batchCost += estimate.totalUsd;
        if (estimate.layerLatencyMs > layerLatency) layerLatency = estimate.layerLatencyMs;
      }
      batchLatency += layerLatency;
    });
    totalLatency += batchLatency;
    batchLatenciesMs.push(batchLatency);
    batchCostsUsd.push(batchCost);
    if (batchLatency <= sloMs) met++;
  }
  const count = Math.max(batches.length, 1);
  return {
    meanCostUsd: totalCost / count,
    meanLatencyMs: totalLatency / count,
    sloAttainment: met / count,
    memoryRepairs,
    payloadRepairs,
    batchCostsUsd,
    batchLatenciesInOrderMs: [...batchLatenciesMs],
    batchLatenciesMs: batchLatenciesMs.sort((a, b) => a - b),
  };
}
