import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { summarizeTraffic, type Traffic } from './traffic.js';
import { mmppMeanRequestsPerS, mmppTraffic, onOffStates } from './traffic-bursty.js';
import { diurnalRequestsPerS, diurnalTraffic } from './traffic-diurnal.js';
import { poissonTraffic } from './traffic-poisson.js';

const sizes = [
  { promptTokens: 1000, outputTokens: 100 },
  { promptTokens: 200, outputTokens: 20 },
];

/** Requests per bin of `binS`. */
function counts(traffic: Traffic, binS: number): number[] {
  const bins = new Array<number>(Math.ceil(traffic.durationS / binS)).fill(0);
  for (const t of traffic.arrivalS) bins[Math.floor(t / binS)]!++;
  return bins;
}

/** Variance ÷ mean of per-bin counts: 1 for Poisson, ≫ 1 for bursty arrivals. */
function dispersion(traffic: Traffic, binS: number): number {
  const values = counts(traffic, binS);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return variance / mean;
}

describe('poissonTraffic', () => {
  it('has the asked rate (within 5 standard deviations), Poisson dispersion, and repeats for a seed', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.5, max: 20, noNaN: true }), fc.integer(), (rate, seed) => {
        const traffic = poissonTraffic({ requestsPerS: rate, durationS: 2000, sizes, seed });
        const expected = rate * 2000;
        expect(Math.abs(traffic.arrivalS.length - expected)).toBeLessThanOrEqual(5 * Math.sqrt(expected));
        expect(traffic.arrivalS.every((t) => t >= 0 && t < 2000)).toBe(true);
      }),
      { seed: 31, numRuns: 20 },
    );
    const traffic = poissonTraffic({ requestsPerS: 10, durationS: 3600, sizes, seed: 9 });
    expect(dispersion(traffic, 10)).toBeGreaterThan(0.8);
    expect(dispersion(traffic, 10)).toBeLessThan(1.2);
    const again = poissonTraffic({ requestsPerS: 10, durationS: 3600, sizes, seed: 9 });
    expect(Array.from(again.arrivalS)).toEqual(Array.from(traffic.arrivalS));
    expect(traffic.parameters).toMatchObject({ kind: 'poisson', seed: 9, requestsPerS: 10 });
  });

  it('draws sizes from the list given, in its proportions', () => {
    const traffic = poissonTraffic({ requestsPerS: 20, durationS: 1000, sizes, seed: 2 });
    const large = traffic.promptTokens.filter((p) => p === 1000).length / traffic.promptTokens.length;
    expect(large).toBeGreaterThan(0.47);
    expect(large).toBeLessThan(0.53);
    expect(traffic.promptTokens.every((p) => p === 1000 || p === 200)).toBe(true);
  });

  it('names the field of a bad option', () => {
    expect(() => poissonTraffic({ requestsPerS: -1, sizes })).toThrow(/requestsPerS/);
    expect(() => poissonTraffic({ requestsPerS: 1, sizes: [] })).toThrow(/sizes/);
    expect(() =>
      poissonTraffic({ requestsPerS: 1, sizes: [{ promptTokens: 1.5, outputTokens: 1 }] }),
    ).toThrow(/sizes\.0\.promptTokens/);
  });
});

describe('mmppTraffic and onOffStates', () => {
  it('on/off states keep the asked mean rate', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.1, max: 100, noNaN: true }),
        fc.double({ min: 1, max: 600, noNaN: true }),
        fc.double({ min: 1, max: 600, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (mean, on, off, offShare) => {
          const states = onOffStates({
            meanRequestsPerS: mean,
            meanOnS: on,
            meanOffS: off,
            offRequestsPerS: offShare * mean,
          });
          expect(mmppMeanRequestsPerS(states)).toBeCloseTo(mean, 9);
          expect(states[0]!.requestsPerS).toBeGreaterThanOrEqual(mean * (1 - 1e-12));
        },
      ),
      { seed: 32, numRuns: 200 },
    );
    expect(() => onOffStates({ meanRequestsPerS: 1, meanOnS: 0, meanOffS: 1 })).toThrow(/meanOnS/);
    expect(() => onOffStates({ meanRequestsPerS: 1, meanOnS: 1, meanOffS: 1, offRequestsPerS: 2 })).toThrow(
      /offRequestsPerS/,
    );
  });

  it('produces the long-run mean rate, bunched into bursts (over-dispersed counts)', () => {
    const states = onOffStates({ meanRequestsPerS: 1, meanOnS: 60, meanOffS: 240 });
    const traffic = mmppTraffic({ states, durationS: 50 * 3600, sizes, seed: 4 });
    // 600 on/off cycles: the on share's standard deviation is about 3.5 % of its mean.
    expect(summarizeTraffic(traffic).requestsPerS).toBeGreaterThan(0.88);
    expect(summarizeTraffic(traffic).requestsPerS).toBeLessThan(1.12);
    expect(dispersion(traffic, 10)).toBeGreaterThan(10);
    // A silent state makes silent stretches: most 10 s bins have nothing in them (80 % of the time is off).
    expect(counts(traffic, 10).filter((c) => c === 0).length).toBeGreaterThan(0.6 * 18_000);
  });

  it('with one state is a Poisson stream', () => {
    const traffic = mmppTraffic({
      states: [{ requestsPerS: 10, meanDwellS: 30 }],
      durationS: 3600,
      sizes,
      seed: 8,
    });
    expect(dispersion(traffic, 10)).toBeLessThan(1.2);
    expect(() => mmppTraffic({ states: [], sizes })).toThrow(/states/);
  });
});

describe('diurnalTraffic', () => {
  const shape = { meanRequestsPerS: 6, peakToTroughRatio: 12, periodS: 86_400, peakAtS: 50_400 };

  it('has the asked mean, peak and trough (the rate function, integrated numerically)', () => {
    let sum = 0;
    let max = 0;
    let min = Number.POSITIVE_INFINITY;
    for (let t = 0; t < 86_400; t += 10) {
      const rate = diurnalRequestsPerS(shape, t);
      sum += rate;
      max = Math.max(max, rate);
      min = Math.min(min, rate);
    }
    expect(sum / 8640).toBeCloseTo(6, 9);
    expect(max / min).toBeCloseTo(12, 6);
    expect(diurnalRequestsPerS(shape, 50_400)).toBeCloseTo(max, 9);
  });

  it('draws a day whose busiest hour is at least 10× its quietest, peaking at 14:00', () => {
    const day = diurnalTraffic({ meanRequestsPerS: 6, sizes, seed: 3 });
    const hourly = counts(day, 3600);
    expect(hourly.length).toBe(24);
    expect(Math.max(...hourly) / Math.min(...hourly)).toBeGreaterThanOrEqual(10);
    expect([13, 14]).toContain(hourly.indexOf(Math.max(...hourly)));
    expect([1, 2]).toContain(hourly.indexOf(Math.min(...hourly)));
    const expected = 6 * 86_400;
    expect(Math.abs(day.arrivalS.length - expected)).toBeLessThanOrEqual(5 * Math.sqrt(expected));
    expect(day.parameters).toMatchObject({ kind: 'diurnal', peakToTroughRatio: 12, seed: 3 });
  });

  it('refuses a peak below the trough', () => {
    expect(() => diurnalTraffic({ meanRequestsPerS: 1, peakToTroughRatio: 0.5, sizes })).toThrow(
      /peakToTroughRatio/,
    );
  });
});
