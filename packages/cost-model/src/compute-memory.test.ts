import { describe, expect, it } from 'vitest';
import { flatComputeProfile, handTransport } from '../test/fixtures.js';
import { parseComputeProfile } from './compute-profile.js';
import { createCostEvaluator } from './evaluator.js';
import { parseCostProfile } from './options.js';
import { defaultPriceTable, resolveRates } from './price-table.js';

const rates = resolveRates({ region: 'us-east-1', arch: 'x86_64' }, defaultPriceTable);

function evaluator(memory?: Record<string, unknown>) {
  const compute = parseComputeProfile({
    ...flatComputeProfile,
    subject: { model: 'hand', quantization: { format: 'int4', blockSize: 32 } },
    ...(memory ? { memory } : {}),
  });
  return createCostEvaluator({
    rates,
    profile: parseCostProfile({ compute, transport: handTransport }),
    hiddenSize: 128,
    expertIntermediateSize: 256,
    wireDtype: 'f32',
  });
}

describe('measured function memory in the compute profile', () => {
  const memory = {
    tokens: 2048,
    peakRssOneExpertMB: 120,
    peakRssMB: 180,
    experts: 4,
    weightBytesPerExpert: 10 * 1024 * 1024,
    residentBytesPerExpert: 20 * 1024 * 1024,
    runtimeOverheadMB: 80,
  };

  it('replaces the default runtime baseline and counts weights at their measured residency', () => {
    const measured = evaluator(memory);
    expect(measured.footprint.runtimeOverheadMB).toBe(80);
    expect(measured.residentBytes(1000)).toBe(2000);
    const unmeasured = evaluator();
    expect(unmeasured.footprint.runtimeOverheadMB).toBe(150);
    expect(unmeasured.residentBytes(1000)).toBe(1000);
  });

  it('decides whether a function fits from the measured figures', () => {
    // 6 experts' weights, 60 MB of codes, in a 256 MB function: default 150 + 60 fits; measured
    // 80 + 6 × 20 = 200 fits; at 30 MB resident each, 80 + 180 = 260 MB does not.
    const weights = 6 * 10 * 1024 * 1024;
    const measured = evaluator(memory).evaluateFunction('s3', 1, 1, 256, 1, weights);
    const unmeasured = evaluator().evaluateFunction('s3', 1, 1, 256, 1, weights);
    expect(unmeasured.fitsMemory).toBe(true);
    expect(measured.fitsMemory).toBe(true);
    const heavier = evaluator({ ...memory, residentBytesPerExpert: 30 * 1024 * 1024 }).evaluateFunction(
      's3',
      1,
      1,
      256,
      1,
      weights,
    );
    expect(heavier.fitsMemory).toBe(false);
  });

  it('keeps the format of the profiled graphs and rejects a memory block measured with one expert', () => {
    expect(evaluator(memory).compute.subject.quantization).toEqual({ format: 'int4', blockSize: 32 });
    expect(() => parseComputeProfile({ ...flatComputeProfile, memory: { ...memory, experts: 1 } })).toThrow(
      /experts/,
    );
  });
});
