import { lambdaLimits } from '@switchyard/core';
import { invalidField } from './errors.js';
import { assertMemoryMB } from './memory.js';
import { defaultPriceTable, type LambdaRates, type PriceTable, resolveRates } from './price-table.js';

/** Billed duration: rounded up to the billing granularity (1 ms on Lambda). Allocation-free. */
export function billedDurationMs(durationMs: number, granularityMs = 1): number {
  if (durationMs <= 0) return 0;
  // Guard against float noise such as 12.000000000001 ms billing as 13 ms.
  const units = durationMs / granularityMs;
  const rounded = Math.round(units);
  return (Math.abs(units - rounded) < 1e-9 ? rounded : Math.ceil(units)) * granularityMs;
}

/** GB-seconds of one invocation: memory/1024 GB × billed s. Allocation-free. */
export function gbSecondsOf(memoryMB: number, billedMs: number): number {
  return (memoryMB / 1024) * (billedMs / 1000);
}

/**
 * Duration charge for `gbSeconds` in a month where `gbSecondsBefore` were already used, walking the
 * monthly volume tiers. Allocation-free.
 */
export function tieredDurationUsd(gbSeconds: number, rates: LambdaRates, gbSecondsBefore = 0): number {
  let usd = 0;
  let start = gbSecondsBefore;
  const end = gbSecondsBefore + gbSeconds;
  const bounds = rates.tierBoundsGbSeconds;
  for (let i = 0; i < bounds.length && start < end; i++) {
    const upper = bounds[i]!;
    if (start < upper) {
      const top = Math.min(end, upper);
      usd += (top - start) * rates.tierUsdPerGbSecond[i]!;
      start = top;
    }
  }
  return usd;
}

export interface LambdaCostInput {
  memoryMB: number;
  /** Run time of one invocation (before rounding). */
  durationMs: number;
  invocations: number;
  arch?: string;
  region?: string;
  /** Subtract the monthly free tier (1 M requests, 400,000 GB-s). Default false. */
  freeTier?: boolean;
  /** Configured /tmp size (512–10,240 MB); above the included 512 MB it is billed per GB-s. Default 512. */
  ephemeralStorageMB?: number;
  /** INIT duration of one cold start; billed as duration since 1 Aug 2025. Default 0. */
  initDurationMs?: number;
  /** Number of invocations that were cold starts (each adds `initDurationMs`). Default 0. */
  coldStarts?: number;
  /** GB-s already used this month (places the charge in the right volume tier). Default 0. */
  gbSecondsAlreadyThisMonth?: number;
}

export interface LambdaCostResult {
  billedDurationMs: number;
  gbSeconds: number;
  computeUsd: number;
  requestUsd: number;
  storageUsd: number;
  totalUsd: number;
  freeTierApplied: boolean;
  region: string;
  arch: string;
  priceTableVersion: string;
  priceTableDate: string;
}

function assertCount(value: number, field: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || !Number.isInteger(value))
    throw invalidField(field, `must be a non-negative whole number, got ${String(value)}`);
}

function assertNonNegative(value: number, field: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw invalidField(field, `must be a non-negative number, got ${String(value)}`);
}

/**
 * Monthly bill of one Lambda function: duration (rounded up per invocation, INIT billed, volume
 * tiers), requests, and ephemeral storage above the included amount; optionally minus the free
 * tier. Validates input; errors name the field. For the planner's hot loop use `invocationUsd`.
 */
export function lambdaCost(input: LambdaCostInput, table: PriceTable = defaultPriceTable): LambdaCostResult {
  assertMemoryMB(input.memoryMB, 'memoryMB');
  assertNonNegative(input.durationMs, 'durationMs');
  assertCount(input.invocations, 'invocations');
  const { minEphemeralStorageMB, maxEphemeralStorageMB } = lambdaLimits;
  const ephemeralStorageMB = input.ephemeralStorageMB ?? minEphemeralStorageMB;
  if (
    !Number.isInteger(ephemeralStorageMB) ||
    ephemeralStorageMB < minEphemeralStorageMB ||
    ephemeralStorageMB > maxEphemeralStorageMB
  )
    throw invalidField(
      'ephemeralStorageMB',
      `must be a whole number between ${minEphemeralStorageMB} and ${maxEphemeralStorageMB}, got ${ephemeralStorageMB}`,
    );
  const initDurationMs = input.initDurationMs ?? 0;
  assertNonNegative(initDurationMs, 'initDurationMs');
  const coldStarts = input.coldStarts ?? 0;
  assertCount(coldStarts, 'coldStarts');
  if (coldStarts > input.invocations) throw invalidField('coldStarts', 'cannot exceed invocations');
  const before = input.gbSecondsAlreadyThisMonth ?? 0;
  assertNonNegative(before, 'gbSecondsAlreadyThisMonth');

  const rates = resolveRates({ region: input.region, arch: input.arch }, table);
  const billedMs = billedDurationMs(input.durationMs, rates.billingGranularityMs);
  const billedInitMs = rates.initBilled
    ? billedDurationMs(input.durationMs + initDurationMs, rates.billingGranularityMs) - billedMs
    : 0;
  const totalBilledMs = billedMs * input.invocations + billedInitMs * coldStarts;
  const gbSeconds = gbSecondsOf(input.memoryMB, totalBilledMs);
  const freeTier = input.freeTier ?? false;

  // The free tier covers the first GB-s and requests of the month, so it comes off before tiers.
  const freeGbSeconds = freeTier ? Math.max(0, rates.freeGbSecondsPerMonth - before) : 0;
  const chargedGbSeconds = Math.max(0, gbSeconds - freeGbSeconds);
  const computeUsd = tieredDurationUsd(chargedGbSeconds, rates, before + Math.min(gbSeconds, freeGbSeconds));
  const chargedRequests = freeTier
    ? Math.max(0, input.invocations - rates.freeRequestsPerMonth)
    : input.invocations;
  const requestUsd = chargedRequests * rates.usdPerRequest;
  const extraStorageGb = Math.max(0, ephemeralStorageMB - rates.includedEphemeralStorageMB) / 1024;
  const storageUsd = extraStorageGb * (totalBilledMs / 1000) * rates.ephemeralUsdPerGbSecond;

  return {
    billedDurationMs: billedMs,
    gbSeconds,
    computeUsd,
    requestUsd,
    storageUsd,
    totalUsd: computeUsd + requestUsd + storageUsd,
    freeTierApplied: freeTier,
    region: rates.region,
    arch: rates.arch,
    priceTableVersion: rates.tableVersion,
    priceTableDate: rates.tableDate,
  };
}

/**
 * Cost of one warm invocation at the first-tier (marginal) price, no free tier, no validation:
 * the planner's inner function. Allocation-free.
 */
export function invocationUsd(memoryMB: number, durationMs: number, rates: LambdaRates): number {
  const billedMs = billedDurationMs(durationMs, rates.billingGranularityMs);
  return gbSecondsOf(memoryMB, billedMs) * rates.usdPerGbSecond + rates.usdPerRequest;
}

/**
 * AWS Lambda Power Tuning's cost formula (architecture/aws-lambda-facts.md): billed ms × price per ms
 * at Lambda's smallest size (128 MB) × memory / 128, no request charge.
 */
export function powerTuningCostUsd(memoryMB: number, durationMs: number, rates: LambdaRates): number {
  const smallestMB = lambdaLimits.minMemoryMB;
  const pricePerMsAtSmallest = (smallestMB / 1024 / 1000) * rates.usdPerGbSecond;
  return (
    billedDurationMs(durationMs, rates.billingGranularityMs) * pricePerMsAtSmallest * (memoryMB / smallestMB)
  );
}
