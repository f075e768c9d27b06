import { expectedImprovement, normalCdf, upperConfidenceBound } from './acquisition.js';
import { GaussianProcess, type KernelHyperparameters } from './gaussian-process.js';
import type { ResolvedOptimizerOptions } from './options.js';
import type { SearchSpace } from './search-space.js';
import type { Trial } from './trial.js';

/** The optimiser's model of the black box: a GP of the objective and one per modelled constraint. */
export interface Surrogate {
  objective: GaussianProcess;
  constraints: GaussianProcess[];
  /** Whether the constraint GPs decide feasibility (else infeasible points are imputed as bad). */
  constrained: boolean;
}

/** What the surrogate is fitted to: the trials, their search vectors and their constraint values. */
export interface Observations {
  trials: readonly Trial[];
  vectors: readonly number[][];
  constraintValues: readonly (readonly number[] | undefined)[];
}

/**
 * Fits surrogates to the observations, warm-starting each GP from the previous fit's
 * hyperparameters (past `refitAfter` observations they are refitted only every `refitEvery`).
 */
export class SurrogateFitter {
  private hyperparameters: KernelHyperparameters | undefined;
  private readonly constraintHyperparameters: (KernelHyperparameters | undefined)[] = [];

  constructor(
    private readonly space: SearchSpace,
    private readonly options: Pick<ResolvedOptimizerOptions, 'fitIterations' | 'refitAfter' | 'refitEvery'>,
  ) {}

  fit(observations: Observations): Surrogate {
    const { trials, constraintValues } = observations;
    const indices = trials.map((_, i) => i);
    const constrained = constraintValues.some((values) => values !== undefined);
    const finiteRows = indices.filter((i) => Number.isFinite(trials[i]!.value));
    if (constrained && finiteRows.length >= 2) {
      // Objective on every finite value (feasible or not); one GP per constraint.
      const objective = this.fitGp(
        observations,
        finiteRows,
        finiteRows.map((i) => trials[i]!.value),
        this.hyperparameters,
      );
      this.hyperparameters = objective.hyperparameters;
      const count = constraintValues.reduce((max, values) => Math.max(max, values?.length ?? 0), 0);
      const constraints: GaussianProcess[] = [];
      for (let c = 0; c < count; c++) {
        const rows = indices.filter((i) => Number.isFinite(constraintValues[i]?.[c] ?? Number.NaN));
        if (rows.length < 2) continue;
        const gp = this.fitGp(
          observations,
          rows,
          rows.map((i) => constraintValues[i]![c]!),
          this.constraintHyperparameters[c],
        );
        this.constraintHyperparameters[c] = gp.hyperparameters;
        constraints.push(gp);
      }
      return { objective, constraints, constrained: true };
    }
    // Infeasible points get a value worse than every feasible one, so the surrogate steers away.
    let worst = Number.NEGATIVE_INFINITY;
    let bestValue = Number.POSITIVE_INFINITY;
    for (const trial of trials) {
      if (!trial.feasible) continue;
      worst = Math.max(worst, trial.value);
      bestValue = Math.min(bestValue, trial.value);
    }
    const spread = Number.isFinite(worst) ? Math.max(worst - bestValue, Math.abs(worst) * 0.1, 1e-9) : 1;
    const objective = this.fitGp(
      observations,
      indices,
      trials.map((trial) =>
        trial.feasible ? trial.value : Number.isFinite(worst) ? worst + 0.25 * spread : 1,
      ),
      this.hyperparameters,
    );
    this.hyperparameters = objective.hyperparameters;
    return { objective, constraints: [], constrained: false };
  }

  private fitGp(
    observations: Observations,
    rows: number[],
    targets: number[],
    previous: KernelHyperparameters | undefined,
  ): GaussianProcess {
    const width = this.space.featureCount;
    const features = new Float64Array(rows.length * width);
    rows.forEach((row, i) => {
      this.space.encode(observations.vectors[row]!, features, i * width);
    });
    const model = new GaussianProcess({
      featureDimension: this.space.featureDimension,
      fitIterations: previous ? Math.ceil(this.options.fitIterations / 2) : this.options.fitIterations,
      initial: previous,
    });
    const n = observations.trials.length;
    const refit =
      !previous ||
      n <= this.options.refitAfter ||
      (n - this.options.refitAfter) % this.options.refitEvery === 0;
    model.setData(features, targets, { fit: refit });
    return model;
  }
}

/**
 * The acquisition value of the encoded point at `features[offset…]`: EI (or the confidence bound)
 * weighted by the probability that every modelled constraint holds. `xi` is EI's margin in the
 * objective's units. Larger is better.
 */
export function acquisitionValue(
  model: Surrogate,
  features: Float64Array,
  offset: number,
  bestValue: number,
  settings: { acquisition: ResolvedOptimizerOptions['acquisition']; kappa: number; xi: number },
): number {
  let feasibility = 1;
  for (const constraint of model.constraints) {
    const prediction = constraint.predict(features, offset);
    feasibility *= normalCdf(-prediction.mean / Math.max(prediction.standardDeviation, 1e-12));
  }
  // Nothing feasible seen yet: look for feasibility first.
  if (model.constrained && !Number.isFinite(bestValue)) return feasibility;
  const { mean, standardDeviation } = model.objective.predict(features, offset);
  if (settings.acquisition === 'ucb') {
    const bound = upperConfidenceBound(mean, standardDeviation, settings.kappa);
    return feasibility >= 0.5 ? bound : bound - 1e6 * (0.5 - feasibility) * Math.abs(bound + 1);
  }
  return expectedImprovement(mean, standardDeviation, bestValue, settings.xi) * feasibility;
}
