import { OptimizerError } from './errors.js';

/**
 * Small dense linear algebra on row-major Float64Arrays, enough for a Gaussian process with a few
 * hundred observations. No allocation inside the inner loops.
 */

/**
 * Lower Cholesky factor of the symmetric positive-definite `matrix` (n×n, row-major). Adds jitter to
 * the diagonal, growing tenfold up to `maxJitter`, when the matrix is not numerically positive
 * definite. Returns the factor and the jitter that was needed.
 */
export function cholesky(
  matrix: Float64Array,
  n: number,
  options: { jitter?: number; maxJitter?: number } = {},
): { factor: Float64Array; jitter: number } {
  let jitter = options.jitter ?? 0;
  const maxJitter = options.maxJitter ?? 1e-2;
  const factor = new Float64Array(n * n);
  for (;;) {
    if (tryCholesky(matrix, n, jitter, factor)) return { factor, jitter };
    jitter = jitter === 0 ? 1e-10 : jitter * 10;
    if (jitter > maxJitter)
      throw new OptimizerError({
        code: 'INTERNAL',
        message: `matrix is not positive definite even with jitter ${maxJitter}`,
        location: 'cholesky',
      });
  }
}

function tryCholesky(matrix: Float64Array, n: number, jitter: number, factor: Float64Array): boolean {
  factor.fill(0);
  for (let i = 0; i < n; i++) {
    const rowI = i * n;
    for (let j = 0; j <= i; j++) {
      const rowJ = j * n;
      let sum = matrix[rowI + j]!;
      for (let k = 0; k < j; k++) sum -= factor[rowI + k]! * factor[rowJ + k]!;
      if (i === j) {
        sum += jitter;
        if (!(sum > 0) || !Number.isFinite(sum)) return false;
        factor[rowI + i] = Math.sqrt(sum);
      } else {
        factor[rowI + j] = sum / factor[rowJ + j]!;
      }
    }
  }
  return true;
}

/** Solves L x = b for lower-triangular L (forward substitution); writes into `out`. */
export function solveLower(factor: Float64Array, n: number, b: ArrayLike<number>, out = new Float64Array(n)) {
  for (let i = 0; i < n; i++) {
    let sum = b[i]!;
    const row = i * n;
    for (let k = 0; k < i; k++) sum -= factor[row + k]! * out[k]!;
    out[i] = sum / factor[row + i]!;
  }
  return out;
}

/** Solves Lᵀ x = b for lower-triangular L (back substitution); writes into `out`. */
export function solveUpperTransposed(
  factor: Float64Array,
  n: number,
  b: ArrayLike<number>,
  out = new Float64Array(n),
) {
  for (let i = n - 1; i >= 0; i--) {
    let sum = b[i]!;
    for (let k = i + 1; k < n; k++) sum -= factor[k * n + i]! * out[k]!;
    out[i] = sum / factor[i * n + i]!;
  }
  return out;
}

/** Solves (L Lᵀ) x = b given the Cholesky factor L. */
export function choleskySolve(factor: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  return solveUpperTransposed(factor, n, solveLower(factor, n, b));
}

/** Inverse of L Lᵀ from its Cholesky factor, as a full symmetric matrix. */
export function choleskyInverse(factor: Float64Array, n: number): Float64Array {
  // L⁻¹ column by column, then (L Lᵀ)⁻¹ = L⁻ᵀ L⁻¹.
  const inverseFactor = new Float64Array(n * n);
  const unit = new Float64Array(n);
  const column = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    unit.fill(0);
    unit[j] = 1;
    solveLower(factor, n, unit, column);
    for (let i = 0; i < n; i++) inverseFactor[i * n + j] = column[i]!;
  }
  const inverse = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = 0;
      for (let k = i; k < n; k++) sum += inverseFactor[k * n + i]! * inverseFactor[k * n + j]!;
      inverse[i * n + j] = sum;
      inverse[j * n + i] = sum;
    }
  }
  return inverse;
}
