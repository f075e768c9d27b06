import type { RandomSource } from '@switchyard/core';
import type { ResolvedOptimizerOptions } from './options.js';
import type { SearchSpace } from './search-space.js';
import type { TrialResult } from './trial.js';

/**
 * The per-dimension exploration probabilities of the paper's multi-dimensional ε-greedy search
 * (architecture/paper.md): ε_d = ε₀ / (1 + Σ ρ_d,t), where every trial adds ρ₁ (memory violation),
 * ρ₂ (payload violation) or ρ₃ (no violation) to the dimensions it implicates and ρ to the others —
 * so dimensions that keep running into limits keep exploring.
 */
export class EpsilonSchedule {
  /** Σ ρ per dimension so far. */
  private readonly age: Float64Array;

  constructor(
    private readonly schedule: ResolvedOptimizerOptions['epsilon'],
    private readonly space: SearchSpace,
  ) {
    this.age = new Float64Array(space.dimensions.length);
  }

  /** ε of dimension `d` now. */
  epsilon(d: number): number {
    return this.schedule.initial / (1 + this.age[d]!);
  }

  /**
   * Ages every dimension after a trial. The dimensions it implicates are those the result blames
   * (`violatedDimensions`, when it violated something), else those that `changed` from the incumbent.
   */
  record(outcome: TrialResult, changed: ReadonlySet<number>): void {
    const schedule = this.schedule;
    const violations = outcome.violations ?? [];
    const blamed = outcome.violatedDimensions
      ? new Set(
          outcome.violatedDimensions.map((name) => this.space.dimensions.findIndex((d) => d.name === name)),
        )
      : undefined;
    this.space.dimensions.forEach((_, d) => {
      const implicated = blamed && violations.length > 0 ? blamed.has(d) : changed.has(d);
      let rate = schedule.rho;
      if (implicated) {
        if (violations.includes('memory')) rate = schedule.rhoMemory;
        else if (violations.includes('payload')) rate = schedule.rhoPayload;
        else if (violations.length > 0 || outcome.feasible === false) rate = schedule.rhoMemory;
        else rate = schedule.rhoFeasible;
      }
      this.age[d]! += rate;
    });
  }

  /**
   * Re-draws each dimension of the acquisition's `proposal` at random with its ε (a different value
   * than proposed); tries again when that point is taken, and keeps the proposal after 20 tries.
   */
  explore(
    proposal: number[],
    random: RandomSource,
    isTaken: (vector: readonly number[]) => boolean,
  ): { vector: number[]; explored: number[] } {
    const epsilons = this.space.dimensions.map((_, d) => this.epsilon(d));
    for (let attempt = 0; attempt < 20; attempt++) {
      const vector = [...proposal];
      const explored: number[] = [];
      this.space.dimensions.forEach((dimension, d) => {
        if (random() >= epsilons[d]!) return;
        for (let draw = 0; draw < 8; draw++) {
          const value = this.space.sampleDimension(dimension, random);
          if (value !== proposal[d]) {
            vector[d] = value;
            explored.push(d);
            break;
          }
        }
      });
      if (explored.length === 0) return { vector: proposal, explored };
      if (!isTaken(vector)) return { vector, explored };
    }
    return { vector: proposal, explored: [] };
  }
}
