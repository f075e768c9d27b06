import type { DeploymentPlan } from '@switchyard/core';

/** Billing so far, from the REPORT lines of the expert functions (absent when experts run in process). */
export interface BillingTotals {
  billedGbSeconds: number;
  costUsd: number;
  /** Invocations that returned (won, lost a hedge race, or failed), each with its REPORT line. */
  invocations: number;
  /** Invocations tried again after a failure (scatter-gather retries). */
  retries: number;
  /** Invocations that failed (function error, killed instance, timeout, throttle); billed when they ran. */
  failedInvocations: number;
}

/** Online predictor quality on served traffic (absent when no predictor is attached). */
export interface PredictorStatus {
  /** Mean |predicted top-k ∩ actual top-k| / k over served tokens. */
  hitRate: number;
  observedTokens: number;
}

/** Plan adaptation so far (absent unless experts run on the local runtime with adaptation on). */
export interface AdaptationStatus {
  rollouts: number;
  failedRollouts: number;
  /** Predicted $/batch of the active plan under the forecast at its rollout (or first check). */
  baselineCostUsdPerBatch: number | undefined;
  /** Predicted $/batch of the active plan under the latest forecast. */
  predictedCostUsdPerBatch: number | undefined;
  /** Relative drift of the active plan's predicted cost since its rollout (undefined before a check). */
  drift: number | undefined;
  /** What the last rollout did to the functions (absent before one). */
  lastRollout?: {
    /** Functions both plans have (same experts): their `live` alias moved. */
    keptFunctions: number;
    /** Of those, the ones whose configuration changed: a new version behind weighted `live`. */
    movedAliases: number;
    createdFunctions: number;
    removedFunctions: number;
  };
}

/**
 * What a serving stack can report beyond its engine; the HTTP layer reads these for `/metrics`,
 * `/v1/stats` and `/v1/deployment`. Each is absent when the stack has no such part.
 */
export interface StatusProviders {
  billing?: () => BillingTotals;
  adaptation?: () => AdaptationStatus;
  predictor?: () => PredictorStatus | undefined;
  /** The active deployment plan when experts run on functions. */
  deployment?: () => DeploymentPlan | undefined;
}
