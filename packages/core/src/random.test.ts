import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRandom, randomInteger, randomNormal, shuffleInPlace } from './random.js';

describe('createRandom', () => {
  it('pins the mulberry32 stream of a seed (fixtures, benches and tests depend on it)', () => {
    const random = createRandom(1);
    const first = [random(), random(), random()].map((x) => Math.round(x * 2 ** 32));
    expect(first).toEqual([2693262067, 11749833, 2265367787]);
  });

  it('stays in [0, 1) and repeats for the same seed', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const a = createRandom(seed);
        const b = createRandom(seed);
        for (let i = 0; i < 50; i++) {
          const x = a();
          expect(x).toBe(b());
          expect(x >= 0 && x < 1).toBe(true);
        }
      }),
    );
  });

  it('draws integers in range, normals with unit spread, and shuffles to a permutation', () => {
    const random = createRandom(7);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[randomInteger(random, 3)]!++;
    for (const count of counts) expect(count).toBeGreaterThan(900);
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < 4000; i++) {
      const x = randomNormal(random);
      sum += x;
      squares += x * x;
    }
    expect(Math.abs(sum / 4000)).toBeLessThan(0.1);
    expect(Math.abs(squares / 4000 - 1)).toBeLessThan(0.1);
    const items = Array.from({ length: 20 }, (_, i) => i);
    expect([...shuffleInPlace([...items], random)].sort((a, b) => a - b)).toEqual(items);
  });
});
