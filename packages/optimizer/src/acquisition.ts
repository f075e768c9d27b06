/** Acquisition functions for minimisation. Larger is better. */

const inverseSqrt2 = 1 / Math.SQRT2;
const inverseSqrt2Pi = 1 / Math.sqrt(2 * Math.PI);

/** Standard normal density. */
export function normalPdf(z: number): number {
  return inverseSqrt2Pi * Math.exp(-0.5 * z * z);
}

/** Standard normal CDF via erfc (Numerical Recipes' Chebyshev fit, |error| < 1.2e-7). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z * inverseSqrt2);
}

function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Expected improvement below `best` (minimisation), with exploration margin `xi`. */
export function expectedImprovement(mean: number, standardDeviation: number, best: number, xi = 0): number {
  const improvement = best - mean - xi;
  if (standardDeviation <= 1e-12) return Math.max(improvement, 0);
  const z = improvement / standardDeviation;
  return improvement * normalCdf(z) + standardDeviation * normalPdf(z);
}

/** Negated lower confidence bound μ − κσ (minimisation), so that larger is better. */
export function upperConfidenceBound(mean: number, standardDeviation: number, kappa = 2): number {
  return -(mean - kappa * standardDeviation);
}
