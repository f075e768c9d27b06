/** A source of uniform numbers in [0, 1), e.g. `Math.random` or `createRandom(seed)`. */
export type RandomSource = () => number;

/**
 * Seeded 32-bit generator (mulberry32): small, fast and reproducible across platforms. The one PRNG
 * every Switchyard package and test uses, so a seed means the same stream everywhere.
 */
export function createRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform integer in [0, count). */
export function randomInteger(random: RandomSource, count: number): number {
  return Math.min(count - 1, Math.floor(random() * count));
}

/** Standard normal draw (Box–Muller). */
export function randomNormal(random: RandomSource): number {
  const u = Math.max(random(), 1e-300);
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Fisher–Yates shuffle in place; returns the same array. */
export function shuffleInPlace<T>(items: T[], random: RandomSource): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInteger(random, i + 1);
    const held = items[i]!;
    items[i] = items[j]!;
    items[j] = held;
  }
  return items;
}
