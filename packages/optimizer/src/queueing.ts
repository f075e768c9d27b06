import { erlangB } from '@switchyard/cost-model/internal';

/** Erlang C: probability that an arrival waits in M/M/c with offered load a = λ·S (a < c). */
export function erlangC(servers: number, offeredLoad: number): number {
  if (offeredLoad <= 0) return 0;
  if (offeredLoad >= servers) return 1;
  // C = B / (1 − ρ(1 − B)) with Erlang B (cost-model's, which prices provisioned concurrency with it).
  const blocking = erlangB(servers, offeredLoad);
  const rho = offeredLoad / servers;
  return blocking / (1 - rho * (1 - blocking));
}

/**
 * Response-time quantile (ms) of `slots` servers with Poisson arrivals at `ratePerS` and a
 * deterministic service time `serviceMs`: S + the wait quantile, with M/D/c's wait tail taken as
 * M/M/c's with the decay doubled (Allen–Cunneen: the wait scales by (Ca² + Cs²)/2 = 1/2), i.e.
 * P(W > x) ≈ C(c, a)·exp(−2(c/S − λ)x). Infinity when the slots cannot keep up.
 */
export function responseQuantileMs(
  ratePerS: number,
  serviceMs: number,
  slots: number,
  quantile: number,
): number {
  const serviceS = serviceMs / 1000;
  const load = ratePerS * serviceS;
  if (slots < 1 || load >= slots) return Number.POSITIVE_INFINITY;
  const waiting = erlangC(slots, load);
  const tail = 1 - quantile;
  if (waiting <= tail) return serviceMs;
  const decayPerS = 2 * (slots / serviceS - ratePerS);
  return serviceMs + (Math.log(waiting / tail) / decayPerS) * 1000;
}

/** Fewest slots whose response-time quantile meets the SLO; undefined when S alone exceeds it. */
export function slotsForSlo(
  ratePerS: number,
  serviceMs: number,
  sloMs: number,
  quantile: number,
): number | undefined {
  if (serviceMs > sloMs) return undefined;
  let slots = Math.max(1, Math.floor(ratePerS * (serviceMs / 1000)) + 1);
  while (responseQuantileMs(ratePerS, serviceMs, slots, quantile) > sloMs) slots++;
  return slots;
}
