import { invalidField } from './errors.js';
import { assertMemoryMB } from './memory.js';
import type { LambdaRates, ProvisionedRates } from './price-table.js';

/**
 * Erlang's loss formula B(c, a): the share of Poisson arrivals that find all `servers` busy when the
 * offered load is `offeredLoad` Erlangs (arrival rate × mean service time), for any service-time
 * distribution. Computed by its stable recursion B(k) = a·B(k−1) / (k + a·B(k−1)), B(0) = 1.
 */
export function erlangB(servers: number, offeredLoad: number): number {
  if (offeredLoad <= 0) return 0;
  let blocking = 1;
  for (let k = 1; k <= servers; k++) blocking = (offeredLoad * blocking) / (k + offeredLoad * blocking);
  return blocking;
}

/** One function (one replica) as provisioned concurrency prices it. */
export interface ProvisionedReplica {
  memoryMB: number;
  /** Billed GB-s of one invocation (one batch's work for this replica). */
  gbSecondsPerInvocation: number;
  /** Batches per second. */
  arrivalRatePerS: number;
  /** Invocations of this replica per batch (1, or less when some batches give it no tokens). Default 1. */
  invocationsPerBatch?: number;
  /** Provisioned instances (0 = on demand only). */
  provisioned: number;
}

/** What one replica costs per batch, on demand or with provisioned concurrency. */
export interface ProvisionedReplicaCost {
  /** Offered load: mean concurrent invocations (arrival rate × billed seconds). */
  offeredLoad: number;
  /** Share of invocations that find every provisioned instance busy and run on demand (Erlang B). */
  spillFraction: number;
  /** The configured concurrency's charge, per hour (busy or idle). */
  standingUsdPerHour: number;
  /** That charge's share of one batch (per hour over batches per hour). */
  standingUsdPerBatch: number;
  /** One invocation's duration: provisioned price for the served share, on demand for the rest. */
  durationUsdPerInvocation: number;
  /** One invocation's request, by the same shares. */
  requestUsdPerInvocation: number;
  /** Everything per batch: standing + invocations per batch × (duration + request). */
  usdPerBatch: number;
  /** The same replica on demand only, per batch. */
  onDemandUsdPerBatch: number;
}

/**
 * Provisioned concurrency's charges for one replica (https://aws.amazon.com/lambda/pricing/): the
 * configured concurrency costs memory × count × its GB-s price for every second it is enabled; the
 * invocations it serves pay its lower duration price; invocations beyond it (the Erlang-B share that
 * finds every provisioned instance busy, arrivals taken as Poisson) run on demand at the on-demand
 * price. Per batch, the standing charge is the charge per second over the batches per second.
 * Cold starts are not modelled on either side (a steady arrival rate keeps on-demand instances warm).
 */
export function provisionedReplicaCost(
  replica: ProvisionedReplica,
  rates: Pick<LambdaRates, 'usdPerGbSecond' | 'usdPerRequest'> & { provisioned: ProvisionedRates },
): ProvisionedReplicaCost {
  const { memoryMB, gbSecondsPerInvocation, arrivalRatePerS, provisioned } = replica;
  const invocationsPerBatch = replica.invocationsPerBatch ?? 1;
  const gb = memoryMB / 1024;
  const offeredLoad = arrivalRatePerS * invocationsPerBatch * (gbSecondsPerInvocation / gb);
  const spillFraction = provisioned === 0 ? 1 : erlangB(provisioned, offeredLoad);
  const served = 1 - spillFraction;
  const standingUsdPerSecond = provisioned * gb * rates.provisioned.concurrencyUsdPerGbSecond;
  const standingUsdPerBatch = provisioned === 0 ? 0 : standingUsdPerSecond / arrivalRatePerS;
  const durationUsdPerInvocation =
    gbSecondsPerInvocation *
    (served * rates.provisioned.durationUsdPerGbSecond + spillFraction * rates.usdPerGbSecond);
  const requestUsdPerInvocation =
    served * rates.provisioned.usdPerRequest + spillFraction * rates.usdPerRequest;
  return {
    offeredLoad,
    spillFraction,
    standingUsdPerHour: standingUsdPerSecond * 3600,
    standingUsdPerBatch,
    durationUsdPerInvocation,
    requestUsdPerInvocation,
    usdPerBatch:
      standingUsdPerBatch + invocationsPerBatch * (durationUsdPerInvocation + requestUsdPerInvocation),
    onDemandUsdPerBatch:
      invocationsPerBatch * (gbSecondsPerInvocation * rates.usdPerGbSecond + rates.usdPerRequest),
  };
}

/**
 * The provisioned concurrency that makes one replica cheapest per batch (0 when none beats on
 * demand), searched up to where spill-over is negligible. Without an arrival rate or provisioned
 * prices nothing can be priced, and the answer is 0.
 */
export function bestProvisionedConcurrency(
  replica: Omit<ProvisionedReplica, 'provisioned'>,
  rates: Pick<LambdaRates, 'usdPerGbSecond' | 'usdPerRequest' | 'provisioned'>,
): { provisioned: number; cost: ProvisionedReplicaCost | undefined } {
  const provisionedRates = rates.provisioned;
  if (!provisionedRates || !(replica.arrivalRatePerS > 0) || !(replica.gbSecondsPerInvocation > 0)) {
    return { provisioned: 0, cost: undefined };
  }
  const priced = { ...rates, provisioned: provisionedRates };
  let best = provisionedReplicaCost({ ...replica, provisioned: 0 }, priced);
  let bestCount = 0;
  const load = best.offeredLoad;
  const limit = Math.ceil(load + 6 * Math.sqrt(load) + 2);
  for (let count = 1; count <= limit; count++) {
    const cost = provisionedReplicaCost({ ...replica, provisioned: count }, priced);
    if (cost.usdPerBatch < best.usdPerBatch) {
      best = cost;
      bestCount = count;
    }
  }
  return { provisioned: bestCount, cost: best };
}

/**
 * What configured provisioned concurrency costs per hour, busy or idle: `count` instances of
 * `memoryMB` (what `switchyard doctor` prints as a deployment's idle cost). Validates its input.
 */
export function provisionedConcurrencyUsdPerHour(
  memoryMB: number,
  count: number,
  rates: Pick<LambdaRates, 'provisioned' | 'region'>,
): number {
  assertMemoryMB(memoryMB, 'memoryMB');
  if (!Number.isInteger(count) || count < 0) {
    throw invalidField('provisionedConcurrency', `must be a whole number ≥ 0, got ${String(count)}`);
  }
  if (count === 0) return 0;
  if (!rates.provisioned) {
    throw invalidField(
      'priceTable',
      `the price table has no provisioned-concurrency prices for ${rates.region} (add them with an override)`,
    );
  }
  return (memoryMB / 1024) * count * rates.provisioned.concurrencyUsdPerGbSecond * 3600;
}
