import { SwitchyardError } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { handTraffic } from '../test/fixtures.js';
import { forwardTokens, mergeTraffic, summarizeTraffic } from './traffic.js';

/** Arrivals and [prompt, output] sizes side by side. */
function stream(
  arrivalS: number[],
  sizes: Array<[number, number]>,
  durationS: number,
  startEpochMs?: number,
) {
  return handTraffic(
    arrivalS.map((t, i) => [t, sizes[i]![0], sizes[i]![1]] as const),
    durationS,
    startEpochMs,
  );
}

describe('forwardTokens', () => {
  it('counts every prompt token and every generated token but the last (it is never fed back)', () => {
    expect(forwardTokens(100, 1)).toBe(100);
    expect(forwardTokens(100, 10)).toBe(109);
    expect(forwardTokens(100, 0)).toBe(100);
    expect(forwardTokens(0, 0)).toBe(0);
  });
});

describe('summarizeTraffic', () => {
  it('sums tokens and rates over the window, in paper batches', () => {
    const summary = summarizeTraffic(
      stream(
        [0, 1, 2],
        [
          [10_000, 241],
          [5_000, 1],
          [5_000, 0],
        ],
        10,
      ),
    );
    expect(summary.forwardTokens).toBe(20_240);
    expect(summary.requestsPerS).toBeCloseTo(0.3, 12);
    expect(summary.forwardTokensPerS).toBe(2024);
    expect(summary.batchesPerS).toBeCloseTo(2024 / 10_240, 12);
  });
});

describe('trafficFromColumns', () => {
  it('refuses arrivals out of order or outside the window', () => {
    expect(() =>
      stream(
        [1, 0],
        [
          [1, 1],
          [1, 1],
        ],
        10,
      ),
    ).toThrow(/out of order/);
    expect(() =>
      stream(
        [0, 10],
        [
          [1, 1],
          [1, 1],
        ],
        10,
      ),
    ).toThrow(/outside \[0, 10\)/);
    expect(() => stream([0], [[1, 1]], 0)).toThrow(SwitchyardError);
  });
});

describe('mergeTraffic', () => {
  it('aligns clocked streams on their start and keeps every request', () => {
    const early = stream(
      [0, 30],
      [
        [1, 1],
        [2, 1],
      ],
      60,
      1_000_000,
    );
    const late = stream(
      [0, 5],
      [
        [3, 1],
        [4, 1],
      ],
      60,
      1_010_000,
    );
    const merged = mergeTraffic([early, late]);
    expect(Array.from(merged.arrivalS)).toEqual([0, 10, 15, 30]);
    expect(Array.from(merged.promptTokens)).toEqual([1, 3, 4, 2]);
    expect(merged.durationS).toBe(70);
    expect(merged.startEpochMs).toBe(1_000_000);
  });

  it('lays unclocked streams over each other from 0, equal arrivals in the order given', () => {
    const merged = mergeTraffic([stream([5], [[1, 1]], 10), stream([5], [[2, 1]], 20)]);
    expect(Array.from(merged.arrivalS)).toEqual([5, 5]);
    expect(Array.from(merged.promptTokens)).toEqual([1, 2]);
    expect(merged.durationS).toBe(20);
    expect(merged.startEpochMs).toBeUndefined();
    expect(() => mergeTraffic([])).toThrow(/at least one/);
  });
});
