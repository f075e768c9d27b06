import type { ComputeProfile } from './compute-profile.js';
import { invalidField } from './errors.js';

/**
 * A what-if profile: the threads = 1 curve as measured, and a `threads` curve assumed to run
 * `speedup` × faster at every token count (replacing any measured curve for that thread count).
 * Shares between and beyond follow from the two as usual (`computeCurveAt`). For sensitivity rows
 * that ask how much a result rests on one measured multi-thread speed-up; the profile says so in
 * `measurement` and carries no measured points.
 */
export function withThreadSpeedup(profile: ComputeProfile, threads: number, speedup: number): ComputeProfile {
  if (!Number.isInteger(threads) || threads < 2) throw invalidField('threads', 'must be an integer ≥ 2');
  if (!(speedup >= 1 && speedup <= threads))
    throw invalidField('speedup', `must be between 1 and the thread count ${threads}`);
  const one = profile.curves.find((curve) => curve.threads === 1);
  if (!one) throw invalidField('curves', 'the profile has no threads = 1 curve');
  const assumed = {
    threads,
    knots: one.knots.map((knot) => ({ tokens: knot.tokens, durationMs: knot.durationMs / speedup })),
  };
  return {
    ...profile,
    curves: [...profile.curves.filter((curve) => curve.threads !== threads), assumed].sort(
      (a, b) => a.threads - b.threads,
    ),
    measurement: `${profile.measurement ?? 'measured'}; the ${threads}-thread curve replaced by the 1-thread curve ÷ ${speedup} (an assumption, not a measurement)`,
    points: profile.points.filter((point) => point.threads === 1),
    checks: [],
  };
}
