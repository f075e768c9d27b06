import { describe, expect, it } from 'vitest';
import { EpsilonGreedyBayesOpt } from './epsilon-greedy-bayes-opt.js';
import type { Dimension, Point } from './search-space.js';
import type { TrialResult } from './trial.js';

const memorySizes = [128, 256, 512, 768, 1024, 1536, 2048, 3008];
const dimensions: Dimension[] = [
  { kind: 'ordinal', name: 'memoryMB', values: memorySizes },
  { kind: 'integer', name: 'beta', min: 1, max: 32 },
  { kind: 'categorical', name: 'method', values: ['s3', 'direct'] },
];

// A smooth bowl with its minimum at memoryMB 1024, beta 20, method direct; 128 MB is infeasible.
function objective(point: Point): TrialResult {
  const memoryIndex = memorySizes.indexOf(point.memoryMB as number);
  const beta = point.beta as number;
  const value = (memoryIndex - 4) ** 2 + ((beta - 20) / 4) ** 2 + (point.method === 'direct' ? 0 : 3) + 1;
  return memoryIndex === 0 ? { value, feasible: false, violations: ['memory'] } : { value };
}

describe('EpsilonGreedyBayesOpt', () => {
  it('finds the optimum of a mixed discrete bowl within 40 evaluations', async () => {
    const optimizer = new EpsilonGreedyBayesOpt(dimensions, { seed: 3 });
    const result = await optimizer.run(objective, { maxEvaluations: 40 });
    expect(result.best?.value).toBe(1);
    expect(result.best?.point).toEqual({ memoryMB: 1024, beta: 20, method: 'direct' });
  });

  it('is deterministic for a seed and differs across seeds', async () => {
    const run = async (seed: number) =>
      (
        await new EpsilonGreedyBayesOpt(dimensions, { seed }).run(objective, { maxEvaluations: 15 })
      ).trials.map((t) => t.point);
    expect(await run(1)).toEqual(await run(1));
    expect(await run(1)).not.toEqual(await run(2));
  });

  it('uses an injected random source', async () => {
    let calls = 0;
    const random = () => {
      calls++;
      return 0.5;
    };
    new EpsilonGreedyBayesOpt(dimensions, { random }).suggest(3);
    expect(calls).toBeGreaterThan(0);
  });

  it('suggests distinct unseen points in a batch and never repeats an evaluated point', async () => {
    const optimizer = new EpsilonGreedyBayesOpt(dimensions, { seed: 5 });
    const result = await optimizer.run(objective, { maxEvaluations: 30, batchSize: 4 });
    const keys = result.trials.map((t) => JSON.stringify(t.point));
    expect(new Set(keys).size).toBe(keys.length);
    expect(result.evaluations).toBe(30);
  });

  it('never reports an infeasible point as best', async () => {
    const optimizer = new EpsilonGreedyBayesOpt(
      [{ kind: 'ordinal', name: 'memoryMB', values: memorySizes }],
      {
        seed: 1,
        initialEvaluations: 8,
      },
    );
    // Cheaper with less memory, but 128 MB is infeasible.
    const result = await optimizer.run(
      (p) => ({
        value: p.memoryMB as number,
        feasible: (p.memoryMB as number) > 128,
        violations: ['memory'],
      }),
      { maxEvaluations: 8 },
    );
    expect(result.best?.point.memoryMB).toBe(256);
  });

  it('decays ε per dimension: violated dimensions keep exploring longer than untouched ones', () => {
    const optimizer = new EpsilonGreedyBayesOpt(dimensions, { seed: 1 });
    optimizer.observe({ memoryMB: 1024, beta: 20, method: 'direct' }, { value: 1 });
    // Only memoryMB changes relative to the incumbent, and the trial violates memory.
    optimizer.observe(
      { memoryMB: 128, beta: 20, method: 'direct' },
      { value: 9, feasible: false, violations: ['memory'] },
    );
    const epsilons = optimizer.epsilons;
    const { initial, rho, rhoMemory, rhoFeasible } = optimizer.options.epsilon;
    // First trial: every dimension changed (no incumbent) and violated nothing → ρ₃.
    expect(epsilons.memoryMB).toBeCloseTo(initial / (1 + rhoFeasible + rhoMemory), 12);
    expect(epsilons.beta).toBeCloseTo(initial / (1 + rhoFeasible + rho), 12);
    expect(epsilons.memoryMB!).toBeGreaterThan(epsilons.beta!);
  });

  it('rejects decay rates that break ρ₃ < ρ₂ < ρ₁ < ρ', () => {
    expect(
      () =>
        new EpsilonGreedyBayesOpt(dimensions, {
          epsilon: { initial: 0.3, rho: 0.1, rhoMemory: 0.2, rhoPayload: 0.05, rhoFeasible: 0.01 },
        }),
    ).toThrow(/rhoFeasible < rhoPayload < rhoMemory < rho/);
  });

  it('stops by the ζ/λ rule when the best stops moving', async () => {
    const optimizer = new EpsilonGreedyBayesOpt(dimensions, {
      seed: 2,
      stopping: { zeta: 0.001, lambda: 5, minEvaluations: 10 },
    });
    const result = await optimizer.run(() => 7, { maxEvaluations: 100 });
    expect(result.stoppedBy).toBe('converged');
    expect(result.evaluations).toBe(10);
  });

  it('runs every strategy and the sweep exhausts without repeats', async () => {
    for (const strategy of ['gp-ei', 'single-epsilon', 'random', 'sweep'] as const) {
      const result = await new EpsilonGreedyBayesOpt(dimensions, { strategy, seed: 4 }).run(objective, {
        maxEvaluations: 25,
      });
      expect(result.evaluations).toBeGreaterThan(0);
      expect(result.best).toBeDefined();
    }
    const sweep = await new EpsilonGreedyBayesOpt(dimensions, { strategy: 'sweep' }).run(objective, {
      maxEvaluations: 500,
    });
    expect(sweep.stoppedBy).toBe('exhausted');
    expect(sweep.best?.value).toBe(1);
  });

  it('handles continuous dimensions through candidate search', async () => {
    const optimizer = new EpsilonGreedyBayesOpt(
      [
        { kind: 'real', name: 'x', min: -2, max: 2 },
        { kind: 'real', name: 'y', min: 0.01, max: 100, log: true },
      ],
      { seed: 8, candidateCount: 512 },
    );
    const result = await optimizer.run((p) => ((p.x as number) - 0.5) ** 2 + Math.log10(p.y as number) ** 2, {
      maxEvaluations: 30,
    });
    expect(result.best!.value).toBeLessThan(0.1);
  });
});
