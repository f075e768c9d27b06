import {
  type DeploymentPlan,
  describeError,
  type Logger,
  type ModelSummary,
  type MoeStep,
  noopLogger,
  parseWithSchema,
} from '@switchyard/core';
import { planCost } from '@switchyard/cost-model';
import {
  type LoadForecast,
  nominalComputeProfile,
  planDeployment,
  plannerModelFromSummary,
} from '@switchyard/optimizer';
import type { Engine, StepEvent } from './engine.js';
import type { ModelBackend } from './model-backend.js';
import type { OnlinePredictor } from './online-predictor.js';
import {
  type AdaptationOptions,
  adaptationOptionsSchema,
  type ResolvedAdaptationOptions,
} from './options.js';
import type { RemoteExperts } from './remote-experts.js';
import type { AdaptationStatus } from './status.js';

interface AdapterDependencies {
  summary: ModelSummary;
  remote: RemoteExperts;
  backend: ModelBackend;
  engine: Engine;
  online: OnlinePredictor | undefined;
  /** Makes the new functions warm (and fails if they cannot be invoked) before the switch. */
  warm: (moeStep: MoeStep) => Promise<void>;
  placement: (plan: DeploymentPlan) => string;
  logger?: Logger;
}

/**
 * Keeps the deployment matched to the traffic: periodically prices the active plan under the
 * current load forecast (the online predictor's, else the served routing of recent steps); past the
 * drift threshold it plans again (optimizer), deploys the new plan under new function names next to
 * the old one, switches the MoE step between decode steps, and deletes the old functions once no
 * step in progress uses them. Requests never see the switch.
 */
export class PlanAdapter {
  private active: DeploymentPlan;
  private activeStep: MoeStep;
  private generation = 0;
  private readonly options: ResolvedAdaptationOptions;
  private readonly logger: Logger;
  private readonly compute;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private closed = false;
  /** Per-layer routed-token counts of recent steps (exponentially decayed), when there is no predictor. */
  private readonly served = new Map<number, Float64Array>();
  private servedTokens = 0;
  private readonly status: AdaptationStatus = {
    rollouts: 0,
    failedRollouts: 0,
    baselineCostUsdPerBatch: undefined,
    predictedCostUsdPerBatch: undefined,
    drift: undefined,
  };

  constructor(
    private readonly dependencies: AdapterDependencies,
    options: AdaptationOptions = {},
  ) {
    this.options = parseWithSchema(adaptationOptionsSchema, options, 'adaptation options', 'INVALID_CONFIG');
    this.logger = dependencies.logger ?? noopLogger;
    this.active = dependencies.remote.plan;
    this.activeStep = dependencies.remote.moeStep;
    const planner = plannerModelFromSummary(dependencies.summary);
    // Hugging Face MoE experts are gated (gate, up, down): three matrices.
    this.compute = nominalComputeProfile({ ...planner, matrices: 3 });
    dependencies.engine.onStep((event) => this.observe(event));
    if (this.options.intervalMs > 0) {
      this.timer = setInterval(() => void this.check().catch(() => {}), this.options.intervalMs);
      this.timer.unref();
    }
  }

  get plan(): DeploymentPlan {
    return this.active;
  }

  snapshot(): AdaptationStatus {
    return { ...this.status };
  }

  private observe(event: StepEvent): void {
    const E = this.dependencies.summary.numExperts;
    for (const routing of event.routing) {
      let counts = this.served.get(routing.layer);
      if (!counts) {
        counts = new Float64Array(E);
        this.served.set(routing.layer, counts);
      }
      // Decay so the empirical load follows the last few thousand tokens.
      const decay = Math.exp(-routing.numTokens / 4096);
      for (let e = 0; e < E; e++) counts[e]! *= decay;
      for (const expert of routing.topkIds) counts[expert]! += 1;
    }
    this.servedTokens += event.inputTokenIds.length;
  }

  /** The load forecast for one batch of the active plan's size, or undefined before any traffic. */
  forecast(): LoadForecast | undefined {
    const tokensPerBatch = this.active.workload.tokensPerBatch;
    const predicted = this.dependencies.online?.forecast(tokensPerBatch);
    if (predicted) return predicted;
    if (this.servedTokens === 0) return undefined;
    const { moeLayers, topK } = this.dependencies.summary;
    return {
      tokensPerBatch,
      intervalLevel: 0.9,
      layers: moeLayers.map((layer) => {
        const counts = this.served.get(layer) ?? new Float64Array(this.dependencies.summary.numExperts);
        const total = counts.reduce((sum, value) => sum + value, 0) || 1;
        const mean = Array.from(counts, (count) => (count / total) * tokensPerBatch * topK);
        return {
          layer,
          mean,
          low: mean.map((m) => Math.max(0, m - 1.645 * Math.sqrt(m))),
          high: mean.map((m) => m + 1.645 * Math.sqrt(m)),
        };
      }),
    };
  }

  private predictedCost(plan: DeploymentPlan, forecast: LoadForecast): number {
    const expertTokens: Record<number, number[]> = {};
    for (const layer of forecast.layers) expertTokens[layer.layer] = layer.mean;
    return planCost(plan, { expertTokens }, { compute: this.compute }).costUsdPerBatch;
  }

  /**
   * Prices the active plan under the current forecast and re-plans past the threshold (`force`:
   * re-plan regardless). One check at a time; returns whether a new plan was rolled out.
   */
  check({ force = false }: { force?: boolean } = {}): Promise<boolean> {
    if (this.running) return this.running.then(() => this.check({ force }));
    const run = this.checkOnce(force).finally(() => {
      this.running = undefined;
    });
    this.running = run;
    return run;
  }

  private async checkOnce(force: boolean): Promise<boolean> {
    if (this.closed) return false;
    const forecast = this.forecast();
    if (!forecast) return false;
    const cost = this.predictedCost(this.active, forecast);
    this.status.predictedCostUsdPerBatch = cost;
    if (this.status.baselineCostUsdPerBatch === undefined) this.status.baselineCostUsdPerBatch = cost;
    const baseline = this.status.baselineCostUsdPerBatch;
    const drift = baseline > 0 ? Math.abs(cost / baseline - 1) : cost > 0 ? Number.POSITIVE_INFINITY : 0;
    this.status.drift = drift;
    if (!force && drift <= this.options.driftThreshold) return false;
    this.logger.warn('re-planning', { predictedCostUsdPerBatch: cost, baseline, drift, forced: force });
    try {
      await this.rollout(forecast);
      return true;
    } catch (error) {
      this.status.failedRollouts += 1;
      this.logger.warn('rollout failed; the active plan keeps serving', { error: describeError(error) });
      return false;
    }
  }

  private async rollout(forecast: LoadForecast): Promise<void> {
    const { remote, backend, summary } = this.dependencies;
    const planned = await planDeployment({
      model: summary,
      forecast,
      costProfile: { compute: this.compute },
      workload: { tokensPerBatch: this.active.workload.tokensPerBatch, sloMs: this.active.workload.sloMs },
      region: this.active.region,
      arch: this.active.arch,
      seed: this.options.seed + this.generation,
      maxEvaluations: this.options.maxEvaluations,
      maxReplicas: this.options.maxReplicas,
      logger: this.logger,
    });
    this.generation += 1;
    const next = renameFunctions(planned, this.generation);
    const nextStep = await remote.deploy(next);
    await this.dependencies.warm(nextStep);
    const previous = { plan: this.active, step: this.activeStep };
    // Between decode steps: the step in progress finishes on the old functions.
    backend.setMoeStep(nextStep, this.dependencies.placement(next));
    this.active = next;
    this.activeStep = nextStep;
    this.status.baselineCostUsdPerBatch = this.predictedCost(next, forecast);
    this.status.rollouts += 1;
    await backend.idle(previous.step);
    try {
      await remote.retire(previous.plan);
    } catch (error) {
      this.logger.warn('could not delete the previous plan’s functions', { error: describeError(error) });
    }
    this.logger.warn('rolled out a new plan', {
      generation: this.generation,
      functions: next.layers.reduce((n, layer) => n + layer.functions.length, 0),
      predictedCostUsdPerBatch: this.status.baselineCostUsdPerBatch,
    });
  }

  /** Stops the timer and waits for a rollout in progress. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => {});
  }
}

/** New, unused function names for generation `generation` (Lambda names ≤ 64 characters). */
export function renameFunctions(plan: DeploymentPlan, generation: number): DeploymentPlan {
  const suffix = `-g${generation}`;
  return {
    ...plan,
    layers: plan.layers.map((layer) => ({
      ...layer,
      functions: layer.functions.map((fn) => {
        const name = `${fn.name.slice(0, 64 - suffix.length - 4)}${suffix}`;
        return {
          ...fn,
          name,
          functionNames: Array.from({ length: fn.replicas }, (_, r) => `${name}-r${r}`),
        };
      }),
    })),
  };
}
