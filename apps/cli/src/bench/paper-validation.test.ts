import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { median } from '@switchyard/core';
import { planCost } from '@switchyard/cost-model';
import { createDefaultPlan } from '@switchyard/scatter-gather';
import { repoRoot } from '@switchyard/testing/cli';
import { describe, expect, it } from 'vitest';
import {
  batchRouting,
  localRuntimeTransport,
  runMeasuredBatch,
  simulatedInvocations,
  type ValidationBatch,
  type ValidationResult,
  validationComparisonMarkdown,
  validationFileStem,
  validationMarkdown,
  validationMemorySizesMB,
  validationOverlap,
} from './paper-validation.js';
import { readValidationCalibration } from './validation-calibration.js';
import { openValidationSetup } from './validation-setup.js';

const resultsDir = join(import.meta.dirname, '../../../../bench-results/paper');

function batch(memoryMB: number, tokensPerBatch: number, invocationTokens: number[]): ValidationBatch {
  return {
    memoryMB,
    tokensPerBatch,
    offset: 0,
    invocations: invocationTokens.length,
    simulatedInvocations: invocationTokens.length,
    invocationTokens,
    measuredGbSeconds: 1,
    simulatedGbSeconds: 1,
    relativeError: 0,
    simulatedLocalTransportGbSeconds: 1,
    relativeErrorLocalTransport: 0,
    coldStarts: 0,
    loadAverage1m: 0,
  };
}

function run(memoryMB: number, planSignature: string, batches: ValidationBatch[]) {
  return {
    memoryMB,
    planSignature,
    functions: 1,
    batches,
    medianRelativeError: 0,
    worstRelativeError: 0,
    medianRelativeErrorLocalTransport: 0,
    worstRelativeErrorLocalTransport: 0,
  };
}

describe('validationOverlap', () => {
  const calibration = {
    memorySizesMB: [512],
    tokenCounts: [37, 211],
    plans: [{ memoryMB: 512, signature: 'A', functions: 1 }],
  };

  it('is empty when plans, memory sizes and token counts are all different', () => {
    expect(validationOverlap(calibration, { runs: [run(256, 'B', [batch(256, 320, [40, 280])])] })).toEqual({
      plans: [],
      memorySizesMB: [],
      tokenCounts: [],
    });
  });

  it('names a shared plan, memory size, invocation token count and batch token count', () => {
    const overlap = validationOverlap(calibration, {
      runs: [run(512, 'A', [batch(512, 211, [12, 37])])],
    });
    expect(overlap).toEqual({ plans: ['A'], memorySizesMB: [512], tokenCounts: [37, 211] });
  });
});

describe('validationComparisonMarkdown', () => {
  const result = (cpuEmulation: 'scale' | 'cgroup', runs: ReturnType<typeof run>[]): ValidationResult =>
    ({
      kind: 'switchyard.paper-validation',
      createdAt: '2026-12-06T00:00:00Z',
      command: `switchyard bench validation --cpu-emulation ${cpuEmulation}`,
      quick: false,
      model: 'm',
      machine: 'here',
      cpuEmulation,
      loadAverage1m: { start: 1, end: 2 },
      calibrationFile: `validation-${cpuEmulation}-calibration.json`,
      calibration: { createdAt: cpuEmulation },
      target: 0.15,
      runs,
      medianRelativeError: 0,
      worstRelativeError: 0,
      batchesWithinTarget: 0,
      batches: 0,
    }) as unknown as ValidationResult;
  const measured = (b: ValidationBatch, gbSeconds: number, offset: number) => ({
    ...b,
    offset,
    measuredGbSeconds: gbSeconds,
  });

  it('divides measured GB-s batch by batch where both ran the same plan, and says where they did not', () => {
    const scale = result('scale', [
      run(256, 'P', [measured(batch(256, 320, [1]), 2, 0), measured(batch(256, 768, [1]), 4, 320)]),
      run(1769, 'Q', [measured(batch(1769, 320, [1]), 1, 0)]),
    ]);
    const cgroup = result('cgroup', [
      run(256, 'P', [measured(batch(256, 320, [1]), 3, 0), measured(batch(256, 768, [1]), 4, 320)]),
      run(1769, 'R', [measured(batch(1769, 320, [1]), 1, 0)]),
    ]);
    const markdown = validationComparisonMarkdown(scale, cgroup);
    // 256 MB: ratios 1.5 and 1.0 → median 1.25, min 1.0, max 1.5.
    expect(markdown).toContain(
      '| 256 | 0.0 % / 0.0 % | 0.0 % / 0.0 % | yes | 1.250 (1.000 … 1.500, 2 batches) |',
    );
    expect(markdown).toContain(
      '| 1769 | 0.0 % / 0.0 % | 0.0 % / 0.0 % | no | — (different plans or windows) |',
    );
    expect(markdown).toContain('each with its own calibration');
  });
});

describe.each(['scale', 'cgroup'] as const)(
  'the committed validation under cpu emulation %s (bench-results/paper)',
  (cpuEmulation) => {
    const stem = validationFileStem(cpuEmulation);
    const validation = JSON.parse(readFileSync(join(resultsDir, `${stem}.json`), 'utf8')) as ValidationResult;
    // Its own calibration (a bare name, beside it) or the one given with --calibration (from the root).
    const calibration = readValidationCalibration(
      validation.calibrationFile.includes('/')
        ? join(repoRoot, validation.calibrationFile)
        : join(resultsDir, validation.calibrationFile),
    );

    it('ran under that emulation, not QUICK', () => {
      expect(validation.cpuEmulation).toBe(cpuEmulation);
      expect(validation.quick).toBe(false);
    });

    it('shares no plan, memory size or token count with its calibration file', () => {
      expect(validationOverlap(calibration, validation)).toEqual({
        plans: [],
        memorySizesMB: [],
        tokenCounts: [],
      });
      expect(validation.calibration.createdAt).toBe(calibration.createdAt);
      expect(validation.calibration.invocationOverhead).toEqual(calibration.invocationOverhead);
    });

    it('ran at every memory size (a full run) with its transport terms on, and reports every batch', () => {
      if (!validation.quick)
        expect(validation.runs.map((r) => r.memoryMB)).toEqual([...validationMemorySizesMB]);
      const batches = validation.runs.flatMap((r) => r.batches);
      expect(batches.length).toBe(validation.batches);
      for (const b of batches) {
        // The rows' transport terms (warm start, storage access, parameter download) are in the
        // simulation: it must charge more than the handler-only one.
        expect(b.simulatedGbSeconds).toBeGreaterThan(b.simulatedLocalTransportGbSeconds);
        expect(b.relativeError).toBeCloseTo(b.measuredGbSeconds / b.simulatedGbSeconds - 1, 9);
        expect(b.invocationTokens).toHaveLength(b.invocations);
        // The simulator bills what scatter-gather served (a QUICK file from before #21's fix may not).
        if (!validation.quick) expect(b.invocations).toBe(b.simulatedInvocations);
      }
      expect(validation.medianRelativeError).toBeCloseTo(median(batches.map((b) => b.relativeError)), 9);
      const worst = Math.max(...batches.map((b) => Math.abs(b.relativeError)));
      expect(Math.abs(validation.worstRelativeError)).toBeCloseTo(worst, 9);
      const markdown = readFileSync(join(resultsDir, `${stem}.md`), 'utf8');
      expect(markdown).toBe(validationMarkdown(validation));
    });
  },
);

describe('invocations: a real scatter-gather run on the embedded runtime against the simulator', () => {
  it('serves exactly the invocations the simulator bills for the same plan and tokens, whatever β', async () => {
    // Two MoE layers, each one function of all 8 experts with 2 replicas at 1,769 MB (one vCPU: the
    // runtime does not stretch), β = 4: before #21's fix scatter-gather cut each direct replica into
    // ⌈r/4⌉ invocations while the simulator billed one.
    const setup = await openValidationSetup({
      fixturesDir: join(repoRoot, 'fixtures'),
      cpuEmulation: 'off',
    });
    try {
      const full = createDefaultPlan(setup.summary, {
        expertsPerFunction: setup.summary.numExperts,
        replicas: 2,
        beta: 4,
        memoryMB: 1769,
      });
      const plan = { ...full, layers: full.layers.slice(0, 2) };
      await setup.deploy(plan);
      const tokens = 101;
      const routing = batchRouting(setup, 0, tokens);
      const reports = await runMeasuredBatch(setup, plan, routing.layerIds, tokens);
      const cost = planCost(
        plan,
        { expertTokens: routing.expertTokens, tokensPerBatch: tokens },
        { compute: setup.compute, transport: localRuntimeTransport },
      );
      expect(simulatedInvocations(cost)).toBe(4);
      expect(reports).toHaveLength(simulatedInvocations(cost));
      // Every routed row went out once: top-k rows per token per layer.
      expect(reports.reduce((n, r) => n + r.tokens, 0)).toBe(2 * tokens * setup.heldOutTrace.topK);
    } finally {
      await setup.close();
    }
  }, 300_000);
});

describe('the committed comparison of the two emulations (bench-results/paper)', () => {
  it('is what validationComparisonMarkdown makes of the two committed runs', () => {
    const read = (name: string) =>
      JSON.parse(readFileSync(join(resultsDir, `${name}.json`), 'utf8')) as ValidationResult;
    expect(readFileSync(join(resultsDir, 'validation-comparison-cgroup.md'), 'utf8')).toBe(
      validationComparisonMarkdown(read('validation'), read('validation-cgroup')),
    );
  });
});
