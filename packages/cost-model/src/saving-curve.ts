import { cpuBaselines } from './cpu-baselines.js';
import type { CpuPricing, CpuTrafficCost, CpuTrafficOptions } from './cpu-baselines-options.js';
import { invalidField } from './errors.js';
import { defaultPriceTable, type PriceTable } from './price-table.js';
import { paperTokensPerBatch, summarizeTraffic, type Traffic, type TrafficSummary } from './traffic.js';
import { type BatchingOptions, batchTraffic, type WaitSummary } from './traffic-batches.js';

/** How Switchyard's serverless deployment bills a batch. */
export interface ServerlessPricing extends BatchingOptions {
  /**
   * $ of one batch of `tokens` tokens (≤ tokensPerBatch) through the deployment, e.g. `planCost` of
   * the plan on that batch's routing. Called once per distinct token count.
   */
  usdForBatch: (tokens: number) => number;
  /** What the deployment is, for the report. */
  label?: string;
}

/** Switchyard's bill for a stream: its batches, each priced on its own. */
export interface ServerlessBill {
  usd: number;
  usdPerMillionTokens: number;
  batches: number;
  fullBatches: number;
  partialBatches: number;
  tokensPerBatch: number;
  /** From a request's arrival until its batch is dispatched (the serverless side's queueing). */
  batchWait: WaitSummary;
  label: string;
}

/**
 * Bills a stream on the serverless side: `batchTraffic` cuts it into batches (architecture/traffic.md)
 * and each batch costs `usdForBatch(its tokens)`. Idle time costs nothing.
 */
export function serverlessBill(traffic: Traffic, pricing: ServerlessPricing): ServerlessBill {
  const batches = batchTraffic(traffic, pricing);
  const memo = new Map<number, number>();
  let usd = 0;
  let tokens = 0;
  for (const batchTokens of batches.tokens) {
    let cost = memo.get(batchTokens);
    if (cost === undefined) {
      cost = pricing.usdForBatch(batchTokens);
      if (!(cost >= 0 && Number.isFinite(cost)))
        throw invalidField('usdForBatch', `returned ${cost} for a batch of ${batchTokens} tokens`);
      memo.set(batchTokens, cost);
    }
    usd += cost;
    tokens += batchTokens;
  }
  return {
    usd,
    usdPerMillionTokens: tokens > 0 ? (usd / tokens) * 1e6 : 0,
    batches: batches.tokens.length,
    fullBatches: batches.fullBatches,
    partialBatches: batches.partialBatches,
    tokensPerBatch: batches.tokensPerBatch,
    batchWait: batches.requestWait,
    label: pricing.label ?? 'serverless',
  };
}

/**
 * 1 − serverless ÷ baseline: the share of the baseline's bill Switchyard saves (negative: the baseline
 * is cheaper). A free baseline gives 0 against a free bill and −Infinity otherwise.
 */
export function saving(serverlessUsd: number, baselineUsd: number): number {
  if (baselineUsd > 0) return 1 - serverlessUsd / baselineUsd;
  return serverlessUsd > 0 ? Number.NEGATIVE_INFINITY : 0;
}

/** One point of a saving curve: one stream, both bills. */
export interface SavingPoint {
  /** The sweep variable the stream was made at (e.g. a rate scale). */
  x: number;
  traffic: TrafficSummary & { name: string };
  serverless: ServerlessBill;
  cpu: Record<'static' | 'rightSized' | 'autoscaled', CpuTrafficCost>;
  saving: Record<'static' | 'rightSized' | 'autoscaled', number>;
}

/** Where the saving changes sign along a curve. */
export type BreakEven =
  /** Switchyard cheaper (saving > 0) at every point of the range. */
  | { kind: 'always' }
  /** Switchyard never cheaper in the range. */
  | { kind: 'never' }
  | {
      kind: 'crossing';
      /**
       * `serverless-cheaper-below`: Switchyard wins below the point and loses above it (the usual
       * shape against a cluster that idles at low load); `serverless-cheaper-above`: the reverse.
       */
      direction: 'serverless-cheaper-below' | 'serverless-cheaper-above';
      x: number;
      batchesPerS: number;
      forwardTokensPerS: number;
      /** The baseline's utilisation at the crossing (interpolated like the rest). */
      utilization: number;
      /** Sign changes along the whole curve (more than 1: the curve is not monotone; this is the first). */
      crossings: number;
    };

/** A point as break-even reads it: where it is and what the saving is. */
export interface BreakEvenPoint {
  x: number;
  batchesPerS: number;
  forwardTokensPerS: number;
  utilization: number;
  saving: number;
}

/**
 * The first sign change of the saving along points sorted by `x`, linearly interpolated between the
 * two points around it (each coordinate at the same fraction); "always" / "never" when there is none.
 * A saving of exactly 0 counts as not cheaper.
 */
export function breakEven(points: readonly BreakEvenPoint[]): BreakEven {
  if (points.length === 0) throw invalidField('points', 'a saving curve needs at least one point');
  for (let i = 1; i < points.length; i++)
    if (!(points[i]!.x > points[i - 1]!.x))
      throw invalidField('points', `x must increase: point ${i} (${points[i]!.x}) after ${points[i - 1]!.x}`);
  const cheaper = points.map((point) => point.saving > 0);
  let crossings = 0;
  let first = -1;
  for (let i = 1; i < points.length; i++)
    if (cheaper[i] !== cheaper[i - 1]) {
      crossings++;
      if (first < 0) first = i;
    }
  if (first < 0) return { kind: cheaper[0] ? 'always' : 'never' };
  const before = points[first - 1]!;
  const after = points[first]!;
  // Interpolate where the saving reaches 0; a −Infinity end (free baseline) puts it at `before`.
  const span = before.saving - after.saving;
  const fraction = Number.isFinite(span) && span !== 0 ? before.saving / span : 0;
  const at = (key: keyof BreakEvenPoint) => before[key] + fraction * (after[key] - before[key]);
  return {
    kind: 'crossing',
    direction: cheaper[first - 1] ? 'serverless-cheaper-below' : 'serverless-cheaper-above',
    x: at('x'),
    batchesPerS: at('batchesPerS'),
    forwardTokensPerS: at('forwardTokensPerS'),
    utilization: at('utilization'),
    crossings,
  };
}

export interface SavingCurveOptions {
  /** The sweep, increasing (e.g. rate scales 0.05 … 20). */
  xs: readonly number[];
  /** The stream at one sweep value (made on demand: a day of traffic is large). */
  trafficAt: (x: number) => Traffic;
  serverless: ServerlessPricing;
  cpu: CpuTrafficOptions;
  prices?: PriceTable;
  /** Called with each point as it is done. */
  onPoint?: (point: SavingPoint) => void;
}

export interface SavingCurve {
  points: SavingPoint[];
  /** Break-even against each baseline, along the sweep. */
  breakEven: Record<'static' | 'rightSized' | 'autoscaled', BreakEven>;
  pricing: CpuPricing;
  serverlessLabel: string;
}

const baselineKeys = ['static', 'rightSized', 'autoscaled'] as const satisfies ReadonlyArray<
  'static' | 'rightSized' | 'autoscaled'
>;

/**
 * Switchyard's serverless bill against each CPU baseline over a sweep of streams: one point per `x`,
 * and the break-even against each baseline, located on x, on batches/s and on that baseline's
 * utilisation.
 */
export function savingCurve(options: SavingCurveOptions): SavingCurve {
  const prices = options.prices ?? defaultPriceTable;
  if (options.xs.length === 0) throw invalidField('xs', 'must list at least one sweep value');
  const points: SavingPoint[] = [];
  let pricing: CpuPricing | undefined;
  for (const x of options.xs) {
    const traffic = options.trafficAt(x);
    const serverless = serverlessBill(traffic, options.serverless);
    const cpu = cpuBaselines(traffic, options.cpu, prices);
    pricing = cpu.pricing;
    const point: SavingPoint = {
      x,
      traffic: {
        name: traffic.name,
        ...summarizeTraffic(traffic, options.serverless.tokensPerBatch ?? paperTokensPerBatch),
      },
      serverless,
      cpu: { static: cpu.static, rightSized: cpu.rightSized, autoscaled: cpu.autoscaled },
      saving: {
        static: saving(serverless.usd, cpu.static.usd),
        rightSized: saving(serverless.usd, cpu.rightSized.usd),
        autoscaled: saving(serverless.usd, cpu.autoscaled.usd),
      },
    };
    points.push(point);
    options.onPoint?.(point);
  }
  const along = (key: (typeof baselineKeys)[number]) =>
    breakEven(
      points.map((point) => ({
        x: point.x,
        batchesPerS: point.traffic.batchesPerS,
        forwardTokensPerS: point.traffic.forwardTokensPerS,
        utilization: point.cpu[key].utilization,
        saving: point.saving[key],
      })),
    );
  return {
    points,
    breakEven: { static: along('static'), rightSized: along('rightSized'), autoscaled: along('autoscaled') },
    pricing: pricing!,
    serverlessLabel: options.serverless.label ?? 'serverless',
  };
}
