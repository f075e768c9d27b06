import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cholesky, choleskyInverse, choleskySolve } from './linear-algebra.js';

function randomSpd(values: number[], n: number): Float64Array {
  // A = B Bᵀ + n I is symmetric positive definite.
  const matrix = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let sum = i === j ? n : 0;
      for (let k = 0; k < n; k++) sum += values[i * n + k]! * values[j * n + k]!;
      matrix[i * n + j] = sum;
    }
  return matrix;
}

const matrixArbitrary = fc.integer({ min: 1, max: 7 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    values: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: n * n, maxLength: n * n }),
    rhs: fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: n, maxLength: n }),
  }),
);

describe('cholesky', () => {
  it('reconstructs A = L Lᵀ and solves A x = b', () => {
    fc.assert(
      fc.property(matrixArbitrary, ({ n, values, rhs }) => {
        const matrix = randomSpd(values, n);
        const { factor } = cholesky(matrix, n);
        for (let i = 0; i < n; i++)
          for (let j = 0; j < n; j++) {
            let sum = 0;
            for (let k = 0; k < n; k++) sum += factor[i * n + k]! * factor[j * n + k]!;
            expect(sum).toBeCloseTo(matrix[i * n + j]!, 8);
          }
        const x = choleskySolve(factor, n, rhs);
        for (let i = 0; i < n; i++) {
          let sum = 0;
          for (let k = 0; k < n; k++) sum += matrix[i * n + k]! * x[k]!;
          expect(sum).toBeCloseTo(rhs[i]!, 7);
        }
        const inverse = choleskyInverse(factor, n);
        for (let i = 0; i < n; i++)
          for (let j = 0; j < n; j++) {
            let sum = 0;
            for (let k = 0; k < n; k++) sum += matrix[i * n + k]! * inverse[k * n + j]!;
            expect(sum).toBeCloseTo(i === j ? 1 : 0, 7);
          }
      }),
      { seed: 42, numRuns: 60 },
    );
  });

  it('adds jitter to a singular matrix instead of failing', () => {
    const singular = Float64Array.from([1, 1, 1, 1]);
    const { jitter } = cholesky(singular, 2);
    expect(jitter).toBeGreaterThan(0);
  });

  it('rejects an indefinite matrix', () => {
    expect(() => cholesky(Float64Array.from([1, 0, 0, -1]), 2)).toThrow(/not positive definite/);
  });
});
