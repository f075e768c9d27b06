import {
  type DeploymentPlan,
  delay,
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
import { keepFunctionNames, planOfFunctions } from './function-names.js';
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
 * drift threshold it plans again (optimizer) and rolls the new plan out by moving aliases: a group of
 * experts both plans have keeps its functions, whose new configuration is published as a version
 * while `live` stays on the serving one; `live` then routes `warmWeight` of its invocations to the new
 * version while it warms (Lambda's weighted aliases: both versions hold the same experts), and after
 * `warmMs` all of them. New groups get new functions (warmed before use); the MoE step switches
 * between decode steps, and functions only the old plan had are deleted once no step in progress uses
 * them. Requests never see the switch.
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
    const { summary } = this.dependencies;
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
    await this.rollOutPlan(planned);
    this.status.baselineCostUsdPerBatch = this.predictedCost(this.active, forecast);
  }

  /**
   * Rolls out `planned` (a plan for this model, e.g. from `switchyard plan`) as a re-plan does: names
   * kept where the groups are kept, new versions behind `live` with weighted routing while they warm,
   * new functions warmed, the MoE step switched between decode steps, removed functions deleted once
   * idle. One rollout at a time (it waits for one in progress).
   */
  rollOut(planned: DeploymentPlan): Promise<void> {
    if (this.running) return this.running.then(() => this.rollOut(planned));
    const run = this.rollOutPlan(planned).finally(() => {
      this.running = undefined;
    });
    this.running = run;
    return run;
  }

  private async rollOutPlan(planned: DeploymentPlan): Promise<void> {
    const { remote, backend } = this.dependencies;
    this.generation += 1;
    const { plan: next, kept, created, removed } = keepFunctionNames(this.active, planned, this.generation);
    const staged = await remote.deploy(next);
    // Weighted routing while the new versions warm: `live` sends a share of each kept function's
    // invocations (the serving streams') to its new version; the rest stays on the warm one.
    await remote.route(staged.shifts, this.options.warmWeight);
    await this.dependencies.warm(staged.moeStep);
    if (this.options.warmMs > 0) await delay(this.options.warmMs);
    await remote.route(staged.shifts, 1);
    const previous = { plan: this.active, step: this.activeStep };
    // Between decode steps: the step in progress finishes on the old step's functions.
    backend.setMoeStep(staged.moeStep, this.dependencies.placement(next));
    this.active = next;
    this.activeStep = staged.moeStep;
    this.status.rollouts += 1;
    this.status.lastRollout = {
      keptFunctions: kept.length,
      movedAliases: staged.shifts.length,
      createdFunctions: created.length,
      removedFunctions: removed.length,
    };
    await backend.idle(previous.step);
    const retired = planOfFunctions(previous.plan, removed);
    try {
      if (retired) await remote.retire(retired);
    } catch (error) {
      this.logger.warn('could not delete the previous plan’s functions', { error: describeError(error) });
    }
    this.logger.warn('rolled out a new plan', {
      generation: this.generation,
      functions: next.layers.reduce((n, layer) => n + layer.functions.length, 0),
      ...this.status.lastRollout,
    });
  }

  /** Stops the timer and waits for a rollout in progress. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => {});
  }
}
