import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRandom } from './random.js';
import { topKIndices, topKRows } from './top-k.js';

/** The definition: indices sorted by value descending, the lower index first among equal values. */
function reference(values: readonly number[], k: number): number[] {
  const order = values.map((_, index) => index).sort((a, b) => values[b]! - values[a]! || a - b);
  return Array.from({ length: k }, (_, j) => order[j] ?? -1);
}

describe('topKIndices', () => {
  it('ranks the largest first and breaks ties towards the lower index', () => {
    expect(Array.from(topKIndices([0.1, 0.7, 0.2, 0.7, 0.05], 3))).toEqual([1, 3, 2]);
    expect(Array.from(topKIndices(Float32Array.of(-1, -1, -1), 2))).toEqual([0, 1]);
    expect(Array.from(topKIndices([3, 1], 4))).toEqual([0, 1, -1, -1]);
    expect(Array.from(topKIndices([5, 6], 0))).toEqual([]);
  });

  it('equals sorting by value then index, for any numbers and k (ties and infinities included)', () => {
    const value = fc.oneof(
      fc.integer({ min: -3, max: 3 }),
      fc.double({ noNaN: true }),
      fc.constantFrom(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0),
    );
    fc.assert(
      fc.property(fc.array(value, { maxLength: 40 }), fc.integer({ min: 0, max: 45 }), (values, k) => {
        expect(Array.from(topKIndices(values, k))).toEqual(reference(values, k));
      }),
    );
  });

  it('writes into the array it is given', () => {
    const out = new Int32Array(2).fill(9);
    expect(topKIndices(Float64Array.of(1, 3, 2), 2, out)).toBe(out);
    expect(Array.from(out)).toEqual([1, 2]);
  });
});

describe('topKRows', () => {
  it('takes the top-k of every row of a matrix', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 14 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (rowLength, numRows, k, seed) => {
          const random = createRandom(seed);
          // Few distinct values, so ties are common.
          const values = Float32Array.from({ length: rowLength * numRows }, () => Math.floor(random() * 7));
          const rows = topKRows(values, numRows, rowLength, k);
          expect(rows.length).toBe(numRows * k);
          for (let row = 0; row < numRows; row++)
            expect(Array.from(rows.subarray(row * k, (row + 1) * k))).toEqual(
              reference(Array.from(values.subarray(row * rowLength, (row + 1) * rowLength)), k),
            );
        },
      ),
    );
  });
});
