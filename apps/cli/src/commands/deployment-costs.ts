import type { DeploymentPlan } from '@switchyard/core';
import {
  defaultPriceTable,
  loadPriceTable,
  provisionedConcurrencyUsdPerHour,
  resolveRates,
} from '@switchyard/cost-model';

/** What a deployed plan costs: standing (idle) and per use. */
export interface DeploymentCosts {
  priceTable: { version: string; date: string };
  /** Provisioned concurrency of every replica, per hour, whether it serves or not. */
  idleUsdPerHour: number;
  /** 1,000 requests (batches of the plan's tokens) at the plan's predicted cost, standing charges left out. */
  usdPerThousandRequests: number;
  tokensPerRequest: number;
}

/**
 * The costs `switchyard doctor` prints for a plan, from cost-model's dated price table: idle per hour
 * is each function's provisioned concurrency × replicas at its memory
 * (`provisionedConcurrencyUsdPerHour`); per 1,000 requests is the plan's own predicted cost per
 * batch (the planner's cost model: compute, requests, S3, storage) without the standing
 * provisioned-concurrency share, which the idle figure already counts.
 */
export function deploymentCosts(
  plan: DeploymentPlan,
  options: { region: string; priceTablePath?: string },
): DeploymentCosts {
  const table = options.priceTablePath ? loadPriceTable(options.priceTablePath) : defaultPriceTable;
  let idleUsdPerHour = 0;
  for (const layer of plan.layers) {
    for (const fn of layer.functions) {
      if (!fn.provisionedConcurrency) continue;
      const rates = resolveRates({ region: options.region, arch: fn.arch ?? plan.arch }, table);
      idleUsdPerHour += provisionedConcurrencyUsdPerHour(
        fn.memoryMB,
        fn.provisionedConcurrency * fn.replicas,
        rates,
      );
    }
  }
  const perBatch = plan.predicted.costUsdPerBatch - plan.predicted.provisionedUsd;
  return {
    priceTable: { version: table.version, date: table.date },
    idleUsdPerHour,
    usdPerThousandRequests: 1000 * perBatch,
    tokensPerRequest: plan.workload.tokensPerBatch,
  };
}
