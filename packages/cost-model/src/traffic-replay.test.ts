import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forwardTokens, summarizeTraffic } from './traffic.js';
import { poissonTraffic } from './traffic-poisson.js';
import { replayTraffic } from './traffic-replay.js';

const base = poissonTraffic({
  requestsPerS: 4,
  durationS: 600,
  sizes: [
    { promptTokens: 900, outputTokens: 40 },
    { promptTokens: 2000, outputTokens: 3 },
    { promptTokens: 50, outputTokens: 300 },
  ],
  seed: 5,
});
const baseSummary = summarizeTraffic(base);

describe('replayTraffic', () => {
  it('at a whole-number scale s has exactly s× the requests and tokens, at the same instants', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer(), (scale, seed) => {
        const replay = replayTraffic(base, { rateScale: scale, seed });
        const summary = summarizeTraffic(replay);
        expect(summary.requests).toBe(scale * baseSummary.requests);
        expect(summary.forwardTokens).toBe(scale * baseSummary.forwardTokens);
        expect(summary.promptTokens).toBe(scale * baseSummary.promptTokens);
        expect(replay.durationS).toBe(base.durationS);
        expect(new Set(replay.arrivalS)).toEqual(new Set(base.arrivalS));
      }),
      { seed: 21, numRuns: 15 },
    );
  });

  it('at a fractional scale s has s× the requests and tokens in expectation (within 5 standard deviations)', () => {
    let sumOfSquares = 0;
    for (let i = 0; i < base.arrivalS.length; i++)
      sumOfSquares += forwardTokens(base.promptTokens[i]!, base.outputTokens[i]!) ** 2;
    fc.assert(
      fc.property(fc.double({ min: 0.05, max: 4.95, noNaN: true }), fc.integer(), (scale, seed) => {
        const summary = summarizeTraffic(replayTraffic(base, { rateScale: scale, seed }));
        // Each request comes ⌊s⌋ times plus once more with probability f = s − ⌊s⌋ (independently):
        // the count is ⌊s⌋·n + Binomial(n, f); the tokens' variance is f(1 − f)·Σ tokensᵢ².
        const fraction = scale - Math.floor(scale);
        const n = baseSummary.requests;
        const requestsSd = Math.sqrt(n * fraction * (1 - fraction));
        const tokensSd = Math.sqrt(fraction * (1 - fraction) * sumOfSquares);
        expect(Math.abs(summary.requests - scale * n)).toBeLessThanOrEqual(5 * requestsSd + 1e-6);
        expect(Math.abs(summary.forwardTokens - scale * baseSummary.forwardTokens)).toBeLessThanOrEqual(
          5 * tokensSd + 1e-6,
        );
      }),
      { seed: 22, numRuns: 40 },
    );
  });

  it('is the same stream for the same seed and a different one for another', () => {
    const a = replayTraffic(base, { rateScale: 1.5, seed: 3 });
    const b = replayTraffic(base, { rateScale: 1.5, seed: 3 });
    const c = replayTraffic(base, { rateScale: 1.5, seed: 4 });
    expect(Array.from(a.arrivalS)).toEqual(Array.from(b.arrivalS));
    expect(Array.from(a.arrivalS)).not.toEqual(Array.from(c.arrivalS));
    expect(a.parameters).toMatchObject({ kind: 'replay', rateScale: 1.5, seed: 3 });
  });

  it('thins a stream below scale 1 and refuses a scale that is not positive', () => {
    const thin = summarizeTraffic(replayTraffic(base, { rateScale: 0.25, seed: 1 }));
    expect(thin.requests).toBeLessThan(baseSummary.requests * 0.4);
    expect(thin.requests).toBeGreaterThan(baseSummary.requests * 0.1);
    expect(() => replayTraffic(base, { rateScale: 0 })).toThrow(/rateScale/);
    expect(() => replayTraffic(base, { rateScale: Number.NaN })).toThrow(/rateScale/);
  });
});
