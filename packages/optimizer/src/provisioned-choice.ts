import type { DeploymentPlan } from '@switchyard/core';
import { type CostProfile, type PriceTable, planCost, resolveRates } from '@switchyard/cost-model';
import { bestProvisionedConcurrency } from '@switchyard/cost-model/internal';

/**
 * Gives each function of `plan` the provisioned concurrency per replica that makes it cheapest per
 * batch at the workload's arrival rate, and none where none is cheaper than on demand (cost-model's
 * `bestProvisionedConcurrency`: configured GB-s over the batches per second against the lower
 * duration price on the share the instances serve, Erlang-B spill-over on demand). The latency model
 * is the same either way (warm invocations), so the plan meets the SLO exactly as before; only its
 * cost can drop. Without an arrival rate, or without provisioned prices in the table, nothing changes.
 * Mutates and returns `plan` (a draft the planner is still filling in).
 */
export function chooseProvisionedConcurrency(
  plan: DeploymentPlan,
  profile: CostProfile,
  prices: PriceTable,
): DeploymentPlan {
  const arrivalRatePerS = plan.workload.arrivalRatePerS;
  const rates = resolveRates({ region: plan.region, arch: plan.arch }, prices);
  if (!(arrivalRatePerS !== undefined && arrivalRatePerS > 0) || !rates.provisioned) return plan;
  for (const layer of plan.layers) for (const fn of layer.functions) delete fn.provisionedConcurrency;
  const onDemand = planCost(plan, {}, profile, prices);
  plan.layers.forEach((layer, l) => {
    layer.functions.forEach((fn, f) => {
      const cost = onDemand.layers[l]?.functions[f];
      if (!cost || cost.invocations === 0) return;
      const { provisioned } = bestProvisionedConcurrency(
        {
          memoryMB: fn.memoryMB,
          gbSecondsPerInvocation: cost.gbSeconds / cost.invocations,
          arrivalRatePerS,
          invocationsPerBatch: cost.invocations / fn.replicas,
        },
        rates,
      );
      if (provisioned > 0) fn.provisionedConcurrency = provisioned;
    });
  });
  return plan;
}
