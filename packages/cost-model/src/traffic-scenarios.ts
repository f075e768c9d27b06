import { requestSizes, summarizeTraffic, type Traffic } from './traffic.js';
import { mmppTraffic, onOffStates } from './traffic-bursty.js';
import { diurnalTraffic } from './traffic-diurnal.js';
import { poissonTraffic } from './traffic-poisson.js';
import { replayTraffic } from './traffic-replay.js';

/**
 * The committed parameters of the standard traffic scenarios. Every synthetic scenario draws its
 * request sizes from the base trace and, at rate scale 1, has the base trace's mean request rate, so
 * the scenarios differ only in how arrivals bunch up. Change a value here and the benchmark's figures
 * change with it: that is why they are in the repository.
 */
export const trafficScenarioParameters = {
  trace: { seed: 2101 },
  poisson: { seed: 2102 },
  /**
   * On/off: silent for 4 minutes on average, then 1 minute at 5× the mean rate; over a day, because one
   * hour holds only a dozen cycles and its mean rate would be off by tens of per cent.
   */
  bursty: { seed: 2103, meanOnS: 60, meanOffS: 240, offShareOfMean: 0, durationS: 86_400 },
  /** A raised-cosine day peaking at 14:00, peak ÷ trough = 12. */
  diurnal: { seed: 2104, peakToTroughRatio: 12, durationS: 86_400, periodS: 86_400, peakAtS: 14 * 3600 },
} as const;

export type TrafficScenarioName = keyof typeof trafficScenarioParameters;

/** A named stream family: `at(s)` is the stream at s× the base trace's mean request rate. */
export interface TrafficScenario {
  name: TrafficScenarioName;
  description: string;
  parameters: Readonly<Record<string, unknown>>;
  at: (rateScale: number) => Traffic;
}

/**
 * The four scenarios over one base trace (e.g. the Azure conversation service): the trace itself
 * replayed at s× its rate, then Poisson, on/off (MMPP) and a diurnal day at the same mean rate and
 * with the trace's request sizes.
 */
export function trafficScenarios(base: Traffic): TrafficScenario[] {
  const sizes = requestSizes(base);
  const sizesLabel = base.name;
  const baseRequestsPerS = summarizeTraffic(base).requestsPerS;
  const { trace, poisson, bursty, diurnal } = trafficScenarioParameters;
  return [
    {
      name: 'trace',
      description: `${base.name} replayed at s× its rate (its own arrivals and sizes)`,
      parameters: { ...trace, base: base.name },
      at: (rateScale) => replayTraffic(base, { rateScale, seed: trace.seed }),
    },
    {
      name: 'poisson',
      description: `Poisson arrivals at s × ${baseRequestsPerS.toFixed(3)} requests/s over ${base.durationS} s`,
      parameters: { ...poisson, baseRequestsPerS, durationS: base.durationS },
      at: (rateScale) =>
        poissonTraffic({
          requestsPerS: rateScale * baseRequestsPerS,
          durationS: base.durationS,
          sizes,
          sizesLabel,
          seed: poisson.seed,
        }),
    },
    {
      name: 'bursty',
      description: `on/off bursts (on ${bursty.meanOnS} s, off ${bursty.meanOffS} s on average) over ${bursty.durationS} s, mean s × ${baseRequestsPerS.toFixed(3)} requests/s`,
      parameters: { ...bursty, baseRequestsPerS },
      at: (rateScale) =>
        mmppTraffic({
          states: onOffStates({
            meanRequestsPerS: rateScale * baseRequestsPerS,
            meanOnS: bursty.meanOnS,
            meanOffS: bursty.meanOffS,
            offRequestsPerS: bursty.offShareOfMean * rateScale * baseRequestsPerS,
          }),
          durationS: bursty.durationS,
          sizes,
          sizesLabel,
          seed: bursty.seed,
        }),
    },
    {
      name: 'diurnal',
      description: `a day, peak ÷ trough ${diurnal.peakToTroughRatio}, mean s × ${baseRequestsPerS.toFixed(3)} requests/s`,
      parameters: { ...diurnal, baseRequestsPerS },
      at: (rateScale) =>
        diurnalTraffic({
          meanRequestsPerS: rateScale * baseRequestsPerS,
          peakToTroughRatio: diurnal.peakToTroughRatio,
          durationS: diurnal.durationS,
          periodS: diurnal.periodS,
          peakAtS: diurnal.peakAtS,
          sizes,
          sizesLabel,
          seed: diurnal.seed,
        }),
    },
  ];
}
