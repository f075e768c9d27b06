import { vcpusForMemory } from '@switchyard/core';
import type { ComputeCurve, ComputeProfile } from './compute-profile.js';
import { CostModelError, invalidField } from './errors.js';

/**
 * Slow-down factor of a CPU share `vcpus` relative to one full core, for a part with parallel
 * fraction p (Amdahl) or a coordination cost σ per extra thread (when more threads were slower).
 * Below one vCPU the function gets that fraction of one core's time (1/v). Allocation-free.
 */
export function shareFactor(vcpus: number, parallelFraction: number, overheadPerThread = 0): number {
  if (vcpus <= 1) return 1 / vcpus;
  return 1 - parallelFraction + parallelFraction / vcpus + overheadPerThread * (vcpus - 1);
}

/**
 * Value of a piecewise-linear curve at `tokens`: linear between knots; beyond the last knot the last
 * segment's line (proportional to tokens if that line falls); below the first knot the first
 * segment's line, never below proportional-to-tokens. Allocation-free.
 */
export function curveValueMs(
  knotTokens: ArrayLike<number>,
  knotMs: ArrayLike<number>,
  tokens: number,
): number {
  if (tokens <= 0) return 0;
  const i = segmentIndex(knotTokens, tokens);
  const t0 = knotTokens[i]!;
  const t1 = knotTokens[i + 1]!;
  const y0 = knotMs[i]!;
  const y1 = knotMs[i + 1]!;
  const slope = (y1 - y0) / (t1 - t0);
  const line = y0 + slope * (tokens - t0);
  const n = knotTokens.length;
  if (tokens > knotTokens[n - 1]! && slope <= 0) return (knotMs[n - 1]! * tokens) / knotTokens[n - 1]!;
  if (tokens < t0) return Math.max(line, (y0 * tokens) / t0);
  return line;
}

/**
 * The segment of the curve around `tokens` as a line `fixedMs + perTokenMs × tokens`, so the
 * paper's latency equations (fixed + r·t_cal) use the measured curve exactly at that call size.
 * `fixedMs` may be negative for a steep segment; the line is only used near `tokens`.
 * Writes into `out` (allocation-free).
 */
export function curveSegment(
  knotTokens: ArrayLike<number>,
  knotMs: ArrayLike<number>,
  tokens: number,
  out: { fixedMs: number; perTokenMs: number },
): { fixedMs: number; perTokenMs: number } {
  const n = knotTokens.length;
  const i = segmentIndex(knotTokens, tokens);
  const t0 = knotTokens[i]!;
  const y0 = knotMs[i]!;
  const slope = (knotMs[i + 1]! - y0) / (knotTokens[i + 1]! - t0);
  const beyond = tokens > knotTokens[n - 1]! && slope <= 0;
  const below = tokens < t0 && y0 + slope * (tokens - t0) < (y0 * tokens) / t0;
  if (beyond || below) {
    const k = beyond ? n - 1 : 0;
    out.fixedMs = 0;
    out.perTokenMs = knotMs[k]! / knotTokens[k]!;
    return out;
  }
  out.perTokenMs = slope;
  out.fixedMs = y0 - slope * t0;
  return out;
}

/** Index i of the segment [knot i, knot i+1] that holds `tokens` (end segments beyond the ends). */
function segmentIndex(knotTokens: ArrayLike<number>, tokens: number): number {
  const n = knotTokens.length;
  let low = 0;
  let high = n - 2;
  // Largest i ≤ n − 2 with knotTokens[i] ≤ tokens (0 if below the first knot).
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (knotTokens[mid]! <= tokens) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** A profile's curve at one CPU share, on the threads = 1 curve's token grid. */
export interface ComputeCurveAt {
  /** The CPU share (vCPUs or threads on full cores). */
  vcpus: number;
  tokens: Float64Array;
  durationMs: Float64Array;
}

/**
 * The profile's time-vs-tokens curve at a CPU share `vcpus`, knot by knot on the threads = 1 grid
 * (other thread counts' curves are read at those token counts by interpolation):
 * * v < 1: the function gets that fraction of one core: t₁ / v;
 * * v = a measured thread count: that measurement;
 * * between measured counts a < v < b: Amdahl through the two, t = s + q/v (q, s from t_a, t_b);
 *   if b threads were slower than a (thread start and sync dominate small calls), linear in v;
 * * beyond the largest measured count N: Amdahl through t₁ and t_N, i.e. t₁·((1 − p) + p/v) with
 *   p = (1 − t_N/t₁)/(1 − 1/N), or t₁·(1 + σ(v − 1)) with σ = (t_N/t₁ − 1)/(N − 1) if N threads
 *   were slower — an explicit extrapolation, not a measurement.
 * The diminishing return is therefore measured per token count, not assumed. Memoised per profile
 * object and share: treat the returned arrays (and profiles) as read-only.
 */
export function computeCurveAt(profile: ComputeProfile, vcpus: number): ComputeCurveAt {
  if (!(vcpus > 0)) throw invalidField('vcpus', 'must be a positive number');
  // Profiles are treated as immutable values: memoise per profile object and share.
  let byShare = curveMemo.get(profile);
  if (!byShare) {
    byShare = new Map();
    curveMemo.set(profile, byShare);
  }
  let curve = byShare.get(vcpus);
  if (!curve) {
    curve = buildCurveAt(profile, vcpus);
    if (byShare.size < 4096) byShare.set(vcpus, curve);
  }
  return curve;
}

const curveMemo = new WeakMap<ComputeProfile, Map<number, ComputeCurveAt>>();

function buildCurveAt(profile: ComputeProfile, vcpus: number): ComputeCurveAt {
  const curves = [...profile.curves].sort((a, b) => a.threads - b.threads);
  const one = curves[0]!;
  if (one.threads !== 1)
    throw new CostModelError({
      code: 'INVALID_INPUT',
      message: 'compute profile has no threads = 1 curve',
      location: 'curves',
    });
  const grid = Float64Array.from(one.knots, (knot) => knot.tokens);
  const valuesOf = (curve: ComputeCurve): Float64Array => {
    const tokens = Float64Array.from(curve.knots, (knot) => knot.tokens);
    const ms = Float64Array.from(curve.knots, (knot) => knot.durationMs);
    return grid.map((t) => curveValueMs(tokens, ms, t));
  };
  const t1 = Float64Array.from(one.knots, (knot) => knot.durationMs);
  const out = new Float64Array(grid.length);
  if (vcpus <= 1) {
    for (let k = 0; k < grid.length; k++) out[k] = t1[k]! / vcpus;
    return { vcpus, tokens: grid, durationMs: out };
  }
  const exact = curves.find((curve) => curve.threads === vcpus);
  if (exact) return { vcpus, tokens: grid, durationMs: exact === one ? t1 : valuesOf(exact) };
  const above = curves.find((curve) => curve.threads > vcpus);
  const below = [...curves].reverse().find((curve) => curve.threads < vcpus)!;
  // Between two measured counts: through both; beyond the largest: through 1 and the largest.
  const [a, b] = above ? [below, above] : [one, curves[curves.length - 1]!];
  if (a === b) {
    out.set(t1);
    return { vcpus, tokens: grid, durationMs: out };
  }
  const ta = a === one ? t1 : valuesOf(a);
  const tb = valuesOf(b);
  for (let k = 0; k < grid.length; k++) out[k] = throughTwo(a.threads, ta[k]!, b.threads, tb[k]!, vcpus);
  return { vcpus, tokens: grid, durationMs: out };
}

/** Time at v threads from times at a < b threads: Amdahl s + q/v if b was faster, else linear in v. */
function throughTwo(a: number, timeA: number, b: number, timeB: number, v: number): number {
  if (timeB < timeA) {
    const q = (timeA - timeB) / (1 / a - 1 / b);
    const s = timeA - q / a;
    // s < 0 (super-linear return) would predict negative time far out: cap the parallel part at 100 %.
    if (s < 0) return (timeA * a) / v;
    return s + q / v;
  }
  return timeA + ((timeB - timeA) * (v - a)) / (b - a);
}

/** Time of one compute call over `tokens` tokens at `threads` threads on full cores (the profiling machine). */
export function computeTimeAtThreadsMs(profile: ComputeProfile, tokens: number, threads: number): number {
  if (tokens <= 0) return 0;
  const curve = computeCurveAt(profile, threads);
  return curveValueMs(curve.tokens, curve.durationMs, tokens);
}

/** time(tokens, memory): one compute call over `tokens` tokens at the memory size's vCPU share. */
export function computeTimeMs(profile: ComputeProfile, tokens: number, memoryMB: number): number {
  if (tokens <= 0) return 0;
  const curve = computeCurveAt(profile, vcpusForMemory(memoryMB));
  return curveValueMs(curve.tokens, curve.durationMs, tokens);
}

/** The curve's local line at a memory size around a call of `tokens` tokens (see `curveSegment`). */
export function computeSegment(
  profile: ComputeProfile,
  memoryMB: number,
  tokens: number,
): { fixedMs: number; perTokenMs: number } {
  const curve = computeCurveAt(profile, vcpusForMemory(memoryMB));
  return curveSegment(curve.tokens, curve.durationMs, tokens, { fixedMs: 0, perTokenMs: 0 });
}

/** Fixed part (ms) of the local line for a call of `tokens` tokens at a memory size. */
export function computeFixedMs(profile: ComputeProfile, memoryMB: number, tokens: number): number {
  return computeSegment(profile, memoryMB, tokens).fixedMs;
}

/** t_cal: per-token compute (ms) of the local line for a call of `tokens` tokens at a memory size. */
export function computePerTokenMs(profile: ComputeProfile, memoryMB: number, tokens: number): number {
  return computeSegment(profile, memoryMB, tokens).perTokenMs;
}
