import type { DeploymentPlan, RoutingTrace } from '@switchyard/core';
import { expertLoad } from '@switchyard/core';
import type { ReportCostBar, ReportData, ReportDeploymentRow, ReportFrontierPoint } from './report-data.js';

type PlanCost = DeploymentPlan['predicted'] | DeploymentPlan['baselines'][string];

/** $ per million tokens of a plan's (or baseline's) cost entry, from per-batch cost when not given. */
export function costPerMillionTokens(cost: PlanCost, tokensPerBatch: number): number {
  return cost.costUsdPerMillionTokens ?? (cost.costUsdPerBatch / tokensPerBatch) * 1e6;
}

/** Tokens per second of a cost entry: given, or one batch per latency. */
export function throughputTokensPerS(cost: PlanCost, tokensPerBatch: number): number {
  return (
    cost.throughputTokensPerS ?? (cost.latencyMs > 0 ? tokensPerBatch / (cost.latencyMs / 1000) : Number.NaN)
  );
}

/** Readable names for the baselines cost-model and optimizer write into `plan.baselines`. */
export function baselineLabel(key: string): string {
  const known: Record<string, string> = {
    lambdaml: 'LambdaML-style',
    lambdaML: 'LambdaML-style',
    'cpu-cluster': 'CPU cluster',
    cpuCluster: 'CPU cluster',
    'power-tuning': 'Power-Tuning sweep',
    ods: 'ODS (paper)',
  };
  return known[key] ?? key;
}

function expertRanges(experts: readonly number[]): string {
  const sorted = [...experts].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j > i ? `${sorted[i]}–${sorted[j]}` : `${sorted[i]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

export function deploymentRows(plan: DeploymentPlan): ReportDeploymentRow[] {
  return plan.layers.flatMap((layer) =>
    layer.functions.map((fn, index) => ({
      layer: layer.layer,
      experts: expertRanges(fn.experts),
      memoryMB: fn.memoryMB,
      replicas: fn.replicas,
      predictedTokens: layer.experts
        .filter((expert) => expert.functionIndex === index)
        .reduce((sum, expert) => sum + expert.predictedTokens, 0),
      method: layer.method,
    })),
  );
}

export interface ReportFromPlanOptions {
  title?: string;
  subtitle?: string;
  /** Routing traces to draw popularity from (summed); otherwise the plan's predicted loads are used. */
  traces?: ReadonlyArray<{ name: string; trace: RoutingTrace }>;
  /** Further plans (e.g. the same model planned under other SLOs) to place on the frontier. */
  candidates?: readonly DeploymentPlan[];
  generatedAt?: string;
}

/** Builds the report's data from a deployment plan, and optionally routing traces and other plans. */
export function reportFromPlan(plan: DeploymentPlan, options: ReportFromPlanOptions = {}): ReportData {
  const tokens = plan.workload.tokensPerBatch;
  const chosenCost = costPerMillionTokens(plan.predicted, tokens);
  const bars: ReportCostBar[] = [
    {
      label: `Switchyard (${plan.strategy})`,
      value: chosenCost,
      kind: 'switchyard',
      detail: 'predicted by the cost model',
    },
    ...Object.entries(plan.baselines).map(([key, cost]) => ({
      label: baselineLabel(key),
      value: costPerMillionTokens(cost, tokens),
      kind: 'baseline' as const,
    })),
  ];
  const points: ReportFrontierPoint[] = [
    ...(options.candidates ?? []).map((candidate) => ({
      label: `${candidate.strategy}, SLO ${candidate.workload.sloMs} ms`,
      throughputTokensPerS: throughputTokensPerS(candidate.predicted, candidate.workload.tokensPerBatch),
      costUsdPerMillionTokens: costPerMillionTokens(candidate.predicted, candidate.workload.tokensPerBatch),
      kind: 'candidate' as const,
    })),
    ...Object.entries(plan.baselines).map(([key, cost]) => ({
      label: baselineLabel(key),
      throughputTokensPerS: throughputTokensPerS(cost, tokens),
      costUsdPerMillionTokens: costPerMillionTokens(cost, tokens),
      kind: 'baseline' as const,
    })),
    {
      label: `chosen (SLO ${plan.workload.sloMs} ms)`,
      throughputTokensPerS: throughputTokensPerS(plan.predicted, tokens),
      costUsdPerMillionTokens: chosenCost,
      kind: 'chosen',
    },
  ];
  let popularity: ReportData['popularity'];
  if (options.traces && options.traces.length > 0) {
    const first = options.traces[0]!.trace;
    const layers = first.meta.moe_layers;
    const sums = expertLoad(first).map((row) => row.map(() => 0));
    for (const { trace } of options.traces) {
      expertLoad(trace).forEach((row, l) => {
        row.forEach((count, e) => {
          if (sums[l] && sums[l]![e] !== undefined) sums[l]![e]! += count;
        });
      });
    }
    popularity = {
      source: `routing traces: ${options.traces.map((t) => t.name).join(', ')}`,
      layers: sums.map((row, i) => ({ layer: layers[i] ?? i, tokens: row })),
    };
  } else {
    popularity = {
      source: "the plan's predicted tokens per expert",
      layers: plan.layers.map((layer) => {
        const row = new Array<number>(plan.model.numExperts).fill(0);
        for (const expert of layer.experts) row[expert.expert] = expert.predictedTokens;
        return { layer: layer.layer, tokens: row };
      }),
    };
  }
  const history = plan.search?.bestCostHistory;
  const replicas = plan.layers.reduce(
    (sum, layer) => sum + layer.functions.reduce((s, fn) => s + fn.replicas, 0),
    0,
  );
  const baselineHighlights = Object.entries(plan.baselines).map(([key, cost]) => {
    const value = costPerMillionTokens(cost, tokens);
    return {
      label: `vs ${baselineLabel(key)}`,
      value:
        chosenCost <= value
          ? `${Math.round((1 - chosenCost / value) * 100)} % cheaper`
          : `${(chosenCost / value).toFixed(1)}× dearer`,
      detail: `$${value.toPrecision(3)} per M tokens`,
    };
  });
  return {
    title: options.title ?? `Deployment report: ${plan.model.name}`,
    ...(options.subtitle ? { subtitle: options.subtitle } : {}),
    generatedAt: options.generatedAt ?? new Date().toISOString(),
    model: {
      name: plan.model.name,
      layers: plan.layers.length,
      experts: plan.model.numExperts,
      topK: plan.model.topK,
    },
    highlights: [
      {
        label: '$ per million tokens',
        value: `$${chosenCost.toPrecision(3)}`,
        detail: `strategy ${plan.strategy}`,
      },
      ...baselineHighlights,
      {
        label: 'predicted latency',
        value: `${Math.round(plan.predicted.latencyMs).toLocaleString('en-US')} ms`,
        detail: `SLO ${plan.workload.sloMs} ms · ${plan.predicted.sloMet ? 'met' : 'missed'}`,
      },
      {
        label: 'functions',
        value: String(replicas),
        detail: `${plan.workload.tokensPerBatch.toLocaleString('en-US')} tokens per batch`,
      },
    ],
    popularity,
    costs: { unit: '$ per million tokens', bars },
    ...(history && history.length > 0
      ? {
          convergence: {
            label: 'best cost',
            // The search minimises $ per batch; per million tokens reads like the rest of the report.
            bestCost: history.map((usdPerBatch) => (usdPerBatch / tokens) * 1e6),
            unit: '$ per million tokens',
          },
        }
      : {}),
    frontier: { points },
    deployment: deploymentRows(plan),
    notes: [
      `Costs are the cost model's predictions for the plan (price table ${plan.priceTable.version} dated ${plan.priceTable.date}, ${plan.region}, ${plan.arch}).`,
      ...(history && history.length > 0
        ? []
        : [
            'The plan carries no search history (plan.search.bestCostHistory), so there is no convergence chart.',
          ]),
    ],
  };
}
