import { type DeploymentPlan, deploymentPlanSchema, parseWithSchema, toPlanModel } from '@switchyard/core';
import { planCost } from '@switchyard/cost-model';
import type { Configuration } from './configuration.js';
import type { PlanningProblem } from './planning-problem.js';
import { chooseProvisionedConcurrency } from './provisioned-choice.js';

/** Strategies that model other systems' deployments, which keep functions on demand. */
const onDemandStrategies: ReadonlySet<DeploymentPlan['strategy']> = new Set(['lambdaml', 'power-tuning']);

/** `sy-<model>`: the function-name prefix of a model's plan (Lambda names are ≤ 64 of A–Z a–z 0–9 _ -). */
function functionPrefix(modelName: string): string {
  const cleaned = modelName
    .replace(/^paper:/, '')
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `sy-${cleaned.slice(0, 36) || 'model'}`;
}

/**
 * The core deployment plan of a solved configuration: functions named
 * `sy-<model>-l<layer>-e<expert>` (or `-p<first>x<count>` for a pack) with one name per replica,
 * the forecast's loads per expert, provisioned concurrency where it lowers the cost at the
 * workload's arrival rate (`provisionedConcurrency: 'auto'`, Switchyard's own strategies), and the
 * predicted figures of `planCost` at the mean load.
 */
export function configurationToPlan(
  problem: Pick<PlanningProblem, 'model' | 'input' | 'prices' | 'forecast' | 'profile'>,
  configuration: Configuration,
  strategy: DeploymentPlan['strategy'],
  search?: DeploymentPlan['search'],
): DeploymentPlan {
  const { model, input, prices, forecast } = problem;
  const prefix = functionPrefix(model.name);
  const plan = {
    kind: 'switchyard.deployment-plan' as const,
    version: 1 as const,
    createdAt: input.createdAt ?? new Date().toISOString(),
    strategy,
    model: toPlanModel(model),
    workload: {
      tokensPerBatch: input.workload.tokensPerBatch,
      sloMs: input.workload.sloMs,
      arrivalRatePerS: input.workload.arrivalRatePerS,
      wireDtype: input.workload.wireDtype,
      loadQuantile: Math.min(0.999, Math.max(0.5, configuration.knobs.loadQuantile)),
    },
    arch: input.arch,
    region: input.region,
    priceTable: { version: prices.version, date: prices.date },
    layers: configuration.layers.map((layer, l) => {
      const forecastLayer = forecast.layers[l]!;
      const functions = layer.functions.map((fn) => {
        const name =
          fn.experts.length === 1
            ? `${prefix}-l${layer.layer}-e${fn.experts[0]}`
            : `${prefix}-l${layer.layer}-p${fn.experts[0]}x${fn.experts.length}`;
        return {
          name,
          experts: [...fn.experts],
          memoryMB: fn.memoryMB,
          replicas: fn.replicas,
          functionNames: Array.from({ length: fn.replicas }, (_, r) => `${name}-r${r}`),
        };
      });
      const experts = forecastLayer.mean
        .map((mean, expert) => ({
          expert,
          functionIndex: layer.functions.findIndex((fn) => fn.experts.includes(expert)),
          predictedTokens: mean,
          predictedTokensLow: forecastLayer.low[expert]!,
          predictedTokensHigh: forecastLayer.high[expert]!,
        }))
        .sort((a, b) => a.expert - b.expert);
      return {
        layer: layer.layer,
        method: layer.method,
        beta: layer.beta,
        latencyBudgetMs: layer.budgetMs,
        predictedLatencyMs: 0,
        predictedCostUsd: 0,
        functions,
        experts,
      };
    }),
    predicted: { costUsdPerBatch: 0, latencyMs: 0, computeUsd: 0, requestUsd: 0, sloMet: false },
    baselines: {},
    search,
  };
  const draft = deploymentPlanSchema.parse(plan);
  if (input.provisionedConcurrency === 'auto' && !onDemandStrategies.has(strategy)) {
    chooseProvisionedConcurrency(draft, problem.profile, prices);
  }
  const report = planCost(draft, {}, problem.profile, prices);
  draft.layers.forEach((layer, l) => {
    layer.predictedLatencyMs = report.layers[l]!.latencyMs;
    layer.predictedCostUsd = report.layers[l]!.totalUsd;
  });
  draft.predicted = {
    costUsdPerBatch: report.costUsdPerBatch,
    latencyMs: report.latencyMs,
    gbSecondsPerBatch: report.gbSecondsPerBatch,
    costUsdPerMillionTokens: report.costUsdPerMillionTokens,
    throughputTokensPerS: report.throughputTokensPerS,
    computeUsd: report.computeUsd,
    requestUsd: report.requestUsd,
    storageUsd: report.storageUsd,
    s3Usd: report.s3Usd,
    provisionedUsd: report.provisionedUsd,
    sloMet: report.sloMet && report.memoryViolations === 0 && report.payloadViolations === 0,
  };
  return parseWithSchema(deploymentPlanSchema, draft, 'planned deployment', 'PLAN_INVALID');
}
