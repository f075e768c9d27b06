import { type DeploymentPlan, quantile } from '@switchyard/core';
import type { Configuration } from './configuration.js';
import type { DeploymentSolver } from './deployment-solver.js';
import { OptimizerError } from './errors.js';
import type { RoutedBatch } from './paper-routing.js';

/** A deployment billed on batches it was not planned for (the routing actually realised). */
export interface RealisedBill {
  batches: number;
  meanCostUsd: number;
  worstCostUsd: number;
  meanLatencyMs: number;
  p90LatencyMs: number;
  worstLatencyMs: number;
  /** Share of the batches whose latency met the SLO. */
  sloAttainment: number;
  /** Function-batches that needed extra replicas at run time (memory / direct payload). */
  memoryRepairs: number;
  payloadRepairs: number;
  byDomain: Record<
    string,
    { batches: number; meanCostUsd: number; meanLatencyMs: number; sloAttainment: number }
  >;
}

/** The solver's view of a deployment plan (what `evaluateOnBatches` needs to bill it). */
export function configurationFromPlan(plan: DeploymentPlan, bytesPerExpert: number): Configuration {
  const layers = plan.layers.map((layer) => {
    const functions = layer.functions.map((fn) => {
      const planned = fn.experts.reduce(
        (sum, expert) => sum + (layer.experts.find((e) => e.expert === expert)?.predictedTokens ?? 0),
        0,
      );
      return {
        experts: [...fn.experts],
        plannedTokens: Math.ceil(planned),
        parameterBytes: bytesPerExpert * fn.experts.length,
        memoryMB: fn.memoryMB,
        replicas: fn.replicas,
        latencyMs: 0,
        costUsd: 0,
      };
    });
    return {
      layer: layer.layer,
      method: layer.method,
      beta: layer.beta,
      functions,
      latencyMs: layer.predictedLatencyMs ?? 0,
      costUsd: layer.predictedCostUsd ?? 0,
      budgetMs: layer.latencyBudgetMs ?? layer.predictedLatencyMs ?? 0,
    };
  });
  return {
    knobs: {
      beta: layers[0]?.beta ?? 64,
      loadQuantile: plan.workload.loadQuantile ?? 0.5,
      packingThreshold: 0,
      sloHeadroom: 0,
    },
    layers,
    costUsd: plan.predicted.costUsdPerBatch,
    latencyMs: plan.predicted.latencyMs,
  };
}

/**
 * Bills `configuration` on `batches` with the run-time replica repair (`evaluateOnBatches`): what
 * the deployment would have cost on routing it was not planned for, overall and per domain. The
 * solver's SLO decides attainment.
 */
export function billOnBatches(
  solver: DeploymentSolver,
  configuration: Configuration,
  batches: readonly RoutedBatch[],
): RealisedBill {
  if (batches.length === 0)
    throw new OptimizerError({ code: 'INVALID_INPUT', message: 'no batches to bill', location: 'batches' });
  const scored = solver.evaluateOnBatches(
    configuration,
    batches.map((batch) => batch.loads),
  );
  const sloMs = solver.context.sloMs;
  const byDomain: RealisedBill['byDomain'] = {};
  batches.forEach((batch, b) => {
    let entry = byDomain[batch.domain];
    if (!entry) {
      entry = { batches: 0, meanCostUsd: 0, meanLatencyMs: 0, sloAttainment: 0 };
      byDomain[batch.domain] = entry;
    }
    entry.batches += 1;
    entry.meanCostUsd += scored.batchCostsUsd[b]!;
    entry.meanLatencyMs += scored.batchLatenciesInOrderMs[b]!;
    entry.sloAttainment += scored.batchLatenciesInOrderMs[b]! <= sloMs ? 1 : 0;
  });
  for (const entry of Object.values(byDomain)) {
    entry.meanCostUsd /= entry.batches;
    entry.meanLatencyMs /= entry.batches;
    entry.sloAttainment /= entry.batches;
  }
  return {
    batches: batches.length,
    meanCostUsd: scored.meanCostUsd,
    worstCostUsd: Math.max(...scored.batchCostsUsd),
    meanLatencyMs: scored.meanLatencyMs,
    p90LatencyMs: quantile(scored.batchLatenciesMs, 0.9),
    worstLatencyMs: scored.batchLatenciesMs.at(-1)!,
    sloAttainment: scored.sloAttainment,
    memoryRepairs: scored.memoryRepairs,
    payloadRepairs: scored.payloadRepairs,
    byDomain,
  };
}
