import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { computePerTokenMs, computeTimeAtThreadsMs, loadComputeProfile } from '../src/compute-profile.js';

const fixture = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../fixtures/profiles/shakespeare-mixtral-8x2.json',
);

describe('the committed shakespeare-mixtral-8x2 compute profile', () => {
  const profile = loadComputeProfile(fixture);

  it('is a valid v1 profile measured at 1 and 2 threads', () => {
    expect(profile.subject.model).toBe('shakespeare-mixtral-8x2');
    expect(profile.fits.map((f) => f.threads)).toEqual([1, 2]);
    expect(profile.scaling.measured).toBe(true);
    expect(profile.points.length).toBeGreaterThanOrEqual(8);
  });

  it('its fit reproduces its own single-thread measurements within 15 %', () => {
    for (const point of profile.points.filter((p) => p.threads === 1)) {
      const predicted = computeTimeAtThreadsMs(profile, point.tokens, 1);
      expect(
        Math.abs(predicted - point.durationMs) / point.durationMs,
        `${point.tokens} tokens`,
      ).toBeLessThan(0.15);
    }
  });

  it('gives a per-token time that falls as memory grows', () => {
    expect(computePerTokenMs(profile, 3008)).toBeLessThanOrEqual(computePerTokenMs(profile, 1769));
    expect(computePerTokenMs(profile, 1769)).toBeLessThan(computePerTokenMs(profile, 128));
  });
});
