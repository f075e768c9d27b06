import type { Engine, StepEvent } from '../engine.js';
import type { BillingTotals, StatusProviders } from '../status.js';
import { MetricsRegistry } from './metrics-registry.js';

export interface HistorySample {
  /** Unix ms. */
  time: number;
  tokensPerSecond: number;
  completionTokens: number;
  requests: number;
  activeSequences: number;
  billedGbSeconds: number;
  costUsd: number;
  /** Tokens routed to each expert since the previous sample, [moe layer][expert]. */
  expertTokens: number[][];
}

const latencyBucketsS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const throughputWindowMs = 10_000;

/** The server's metrics: one registry for `/metrics`, plus the history the dashboard draws. */
export class ServerMetrics {
  readonly registry = new MetricsRegistry();
  readonly requests = this.registry.counter(
    'switchyard_requests_total',
    'HTTP requests by route and status.',
  );
  readonly requestDuration = this.registry.histogram(
    'switchyard_request_duration_seconds',
    'Completion request latency, from body received to last byte.',
    latencyBucketsS,
  );
  readonly timeToFirstToken = this.registry.histogram(
    'switchyard_time_to_first_token_seconds',
    'Time from a completion request to its first generated token.',
    latencyBucketsS,
  );
  readonly promptTokens = this.registry.counter('switchyard_prompt_tokens_total', 'Prompt tokens processed.');
  readonly completionTokens = this.registry.counter(
    'switchyard_completion_tokens_total',
    'Completion tokens generated.',
  );
  readonly rateLimited = this.registry.counter('switchyard_rate_limited_total', 'Requests refused with 429.');
  readonly decodeSteps = this.registry.counter('switchyard_decode_steps_total', 'Batched decode steps run.');
  readonly batchSize = this.registry.histogram(
    'switchyard_batch_sequences',
    'Sequences advanced together per decode step (continuous batching).',
    [1, 2, 4, 8, 16, 32, 64, 128],
  );
  readonly expertTokens = this.registry.counter(
    'switchyard_expert_tokens_total',
    'Tokens routed to each expert (per-expert load) by decoder layer.',
  );
  inFlight = 0;
  private readonly recentTokens: Array<{ time: number; tokens: number }> = [];
  private readonly load: number[][];
  private lastSampleLoad: number[][];
  private readonly layerIndex = new Map<number, number>();
  readonly history: HistorySample[] = [];
  private readonly startedMs = Date.now();

  constructor(
    private readonly engine: Engine,
    private readonly providers: StatusProviders,
    private readonly historyLength: number,
  ) {
    const { moeLayers, numExperts } = engine.info;
    moeLayers.forEach((layer, index) => {
      this.layerIndex.set(layer, index);
    });
    this.load = moeLayers.map(() => new Array<number>(numExperts).fill(0));
    this.lastSampleLoad = this.load.map((row) => [...row]);
    this.registry.gauge(
      'switchyard_tokens_per_second',
      'Generated tokens per second over the last 10 s.',
      () => this.tokensPerSecond(),
    );
    this.registry.gauge(
      'switchyard_in_flight_requests',
      'Completion requests being served.',
      () => this.inFlight,
    );
    this.registry.gauge(
      'switchyard_active_sequences',
      'Sequences in the running batch.',
      () => engine.stats().activeSequences,
    );
    this.registry.gauge(
      'switchyard_queued_sequences',
      'Sequences waiting to join the batch.',
      () => engine.stats().queuedSequences,
    );
    this.registry.counter(
      'switchyard_billed_gb_seconds_total',
      'Billed GB-seconds of expert functions so far.',
      () => this.billing().billedGbSeconds,
    );
    this.registry.counter(
      'switchyard_cost_usd_total',
      'Billed cost of expert functions so far (duration + requests), USD.',
      () => this.billing().costUsd,
    );
    this.registry.counter(
      'switchyard_function_invocations_total',
      'Expert function invocations.',
      () => this.billing().invocations,
    );
    this.registry.counter(
      'switchyard_retries_total',
      'Expert function invocations retried.',
      () => this.billing().retries,
    );
    this.registry.counter(
      'switchyard_plan_rollouts_total',
      'New deployment plans rolled out by adaptation (deployed, switched to, old functions retired).',
      () => providers.adaptation?.().rollouts ?? 0,
    );
    this.registry.counter(
      'switchyard_plan_rollouts_failed_total',
      'Re-plans that could not be rolled out (the active plan kept serving).',
      () => providers.adaptation?.().failedRollouts ?? 0,
    );
    this.registry.gauge(
      'switchyard_plan_cost_drift_ratio',
      "Relative change of the active plan's predicted cost under the current load forecast since its rollout (NaN before a check).",
      () => providers.adaptation?.().drift ?? Number.NaN,
    );
    this.registry.gauge(
      'switchyard_predictor_hit_rate',
      'Online expert-popularity predictor hit@k on served tokens (NaN without a predictor).',
      () => providers.predictor?.()?.hitRate ?? Number.NaN,
    );
  }

  billing(): BillingTotals {
    return (
      this.providers.billing?.() ?? {
        billedGbSeconds: 0,
        costUsd: 0,
        invocations: 0,
        retries: 0,
        failedInvocations: 0,
      }
    );
  }

  recordStep(event: StepEvent): void {
    this.decodeSteps.inc();
    this.batchSize.observe(event.sequences);
    const now = Date.now();
    this.recentTokens.push({ time: now, tokens: event.generatedTokens });
    while (this.recentTokens.length > 0 && this.recentTokens[0]!.time < now - throughputWindowMs) {
      this.recentTokens.shift();
    }
    for (const routing of event.routing) {
      const row = this.load[this.layerIndex.get(routing.layer) ?? -1];
      if (!row) continue;
      const counts = new Array<number>(row.length).fill(0);
      for (const expert of routing.topkIds) if (expert >= 0 && expert < row.length) counts[expert]! += 1;
      counts.forEach((count, expert) => {
        if (count === 0) return;
        row[expert]! += count;
        this.expertTokens.inc({ layer: routing.layer, expert }, count);
      });
    }
  }

  tokensPerSecond(): number {
    const now = Date.now();
    const windowMs = Math.min(throughputWindowMs, Math.max(1, now - this.startedMs));
    let tokens = 0;
    for (const entry of this.recentTokens) if (entry.time >= now - throughputWindowMs) tokens += entry.tokens;
    return (tokens * 1000) / windowMs;
  }

  expertLoad(): number[][] {
    return this.load.map((row) => [...row]);
  }

  sample(): void {
    const billing = this.billing();
    const current = this.expertLoad();
    this.history.push({
      time: Date.now(),
      tokensPerSecond: this.tokensPerSecond(),
      completionTokens: this.completionTokens.total(),
      requests: this.requests.total(),
      activeSequences: this.engine.stats().activeSequences,
      billedGbSeconds: billing.billedGbSeconds,
      costUsd: billing.costUsd,
      expertTokens: current.map((row, layer) =>
        row.map((value, expert) => value - this.lastSampleLoad[layer]![expert]!),
      ),
    });
    this.lastSampleLoad = current;
    while (this.history.length > this.historyLength) this.history.shift();
  }

  uptimeSeconds(): number {
    return (Date.now() - this.startedMs) / 1000;
  }
}
