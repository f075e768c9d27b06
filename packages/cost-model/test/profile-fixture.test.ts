import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { computeTimeAtThreadsMs, computeTimeMs } from '../src/compute-curve.js';
import { loadComputeProfile } from '../src/compute-profile.js';

const fixture = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../fixtures/profiles/shakespeare-mixtral-8x2.json',
);

describe('the committed shakespeare-mixtral-8x2 compute profile', () => {
  const profile = loadComputeProfile(fixture);

  it('is a valid v2 profile measured at 1 and 2 threads on a token grid', () => {
    expect(profile.subject.model).toBe('shakespeare-mixtral-8x2');
    expect(profile.curves.map((curve) => curve.threads)).toEqual([1, 2]);
    for (const curve of profile.curves) expect(curve.knots.length).toBeGreaterThanOrEqual(5);
    expect(profile.checks.length).toBeGreaterThanOrEqual(8);
  });

  it('predicts every held-out check within 15 % at each thread count', () => {
    // The committed profile must carry its own evidence: a re-measured profile that misses the target
    // (say, taken on a busy machine) fails here instead of silently feeding the planner.
    for (const check of profile.checks) {
      const predicted = computeTimeAtThreadsMs(profile, check.tokens, check.threads);
      const error = Math.abs(predicted - check.durationMs) / check.durationMs;
      expect(error, `${check.threads} thread(s), ${check.tokens} tokens`).toBeLessThanOrEqual(0.15);
    }
    expect(new Set(profile.checks.map((check) => check.threads))).toEqual(new Set([1, 2]));
  });

  it('carries held-out checks between its knots, and predicts them from the knots alone', () => {
    for (const check of profile.checks) {
      expect(profile.points.some((p) => p.tokens === check.tokens && p.threads === check.threads)).toBe(
        false,
      );
      const knots = profile.curves.find((c) => c.threads === check.threads)!.knots;
      expect(check.tokens).toBeGreaterThan(knots[0]!.tokens);
      expect(check.tokens).toBeLessThan(knots[knots.length - 1]!.tokens);
      const predicted = computeTimeAtThreadsMs(profile, check.tokens, check.threads);
      const below = [...knots].reverse().find((k) => k.tokens < check.tokens)!;
      const above = knots.find((k) => k.tokens > check.tokens)!;
      expect(predicted).toBeGreaterThanOrEqual(Math.min(below.durationMs, above.durationMs));
      expect(predicted).toBeLessThanOrEqual(Math.max(below.durationMs, above.durationMs));
    }
  });

  it('gives a large call a time that falls as memory grows', () => {
    expect(computeTimeMs(profile, 2048, 3008)).toBeLessThan(computeTimeMs(profile, 2048, 1769));
    expect(computeTimeMs(profile, 2048, 1769)).toBeLessThan(computeTimeMs(profile, 2048, 128));
  });
});
