import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { summarizeTraffic } from './traffic.js';
import { azureTraceFileNames, loadAzureTrace } from './traffic-azure-trace.js';
import { trafficScenarioParameters, trafficScenarios } from './traffic-scenarios.js';

const traceDir = new URL('../../../fixtures/data/azure-llm-inference-2023/', import.meta.url).pathname;
const base = loadAzureTrace(join(traceDir, azureTraceFileNames.conversation));
const baseSummary = summarizeTraffic(base);
const scenarios = trafficScenarios(base);
const byName = Object.fromEntries(scenarios.map((scenario) => [scenario.name, scenario]));

describe('trafficScenarios', () => {
  it('has the trace and three synthetic processes, each with its committed seed', () => {
    expect(scenarios.map((scenario) => scenario.name)).toEqual(['trace', 'poisson', 'bursty', 'diurnal']);
    const seeds = scenarios.map((scenario) => scenario.parameters.seed);
    expect(new Set(seeds).size).toBe(4);
    expect(byName.diurnal!.parameters).toMatchObject(trafficScenarioParameters.diurnal);
    expect(trafficScenarioParameters.diurnal.peakToTroughRatio).toBeGreaterThanOrEqual(10);
  });

  it('replays the trace itself at scale 1 and twice its tokens at scale 2', () => {
    const once = summarizeTraffic(byName.trace!.at(1));
    expect(once.forwardTokens).toBe(baseSummary.forwardTokens);
    expect(summarizeTraffic(byName.trace!.at(2)).forwardTokens).toBe(2 * baseSummary.forwardTokens);
  });

  it("gives every synthetic stream s× the trace's mean rate, with its request sizes", () => {
    for (const name of ['poisson', 'bursty'] as const) {
      const summary = summarizeTraffic(byName[name]!.at(0.25));
      // Poisson over the trace's hour within a few per cent; on/off over a day (288 cycles) within 10 %.
      const tolerance = name === 'poisson' ? 0.05 : 0.1;
      expect(Math.abs(summary.requestsPerS / (0.25 * baseSummary.requestsPerS) - 1), name).toBeLessThan(
        tolerance,
      );
      expect(summary.durationS).toBe(name === 'poisson' ? base.durationS : 86_400);
      const meanTokens = summary.forwardTokens / summary.requests;
      expect(
        Math.abs(meanTokens / (baseSummary.forwardTokens / baseSummary.requests) - 1),
        name,
      ).toBeLessThan(0.05);
    }
  });

  it('makes the diurnal day a day whose busiest hour is at least 10× its quietest', () => {
    const day = byName.diurnal!.at(0.2);
    expect(day.durationS).toBe(86_400);
    const hourly = new Array<number>(24).fill(0);
    for (const t of day.arrivalS) hourly[Math.floor(t / 3600)]!++;
    expect(Math.max(...hourly) / Math.min(...hourly)).toBeGreaterThanOrEqual(10);
    const summary = summarizeTraffic(day);
    expect(Math.abs(summary.requestsPerS / (0.2 * baseSummary.requestsPerS) - 1)).toBeLessThan(0.02);
  });

  it('repeats itself, and keeps the same bursts at every rate', () => {
    const a = byName.bursty!.at(0.1);
    const b = byName.bursty!.at(0.1);
    expect(Array.from(a.arrivalS)).toEqual(Array.from(b.arrivalS));
    // The on/off path does not depend on the rate: the realised mean is the same share of the asked one.
    const share = (scale: number) => summarizeTraffic(byName.bursty!.at(scale)).requestsPerS / scale;
    expect(share(0.05) / share(0.2)).toBeCloseTo(1, 1);
  });
});
