import { describe, expect, it } from 'vitest';
import { BufferPool } from './buffer-pool.js';

describe('BufferPool', () => {
  it('hands back a given buffer for any size of the same capacity class, and only its own buffers', () => {
    const pool = new BufferPool();
    const first = pool.take(100_000);
    expect(first.byteLength).toBe(100_000);
    pool.give(first);
    expect(pool.retained).toBe(BufferPool.capacityFor(100_000));
    const second = pool.take(99_000);
    expect(second.buffer).toBe(first.buffer);
    expect(pool.retained).toBe(0);
    pool.give(new Uint8Array(100_000)); // not from the pool: ignored
    expect(pool.retained).toBe(0);
  });

  it('keeps at most maxRetainedBytes and rounds capacities up by at most 12.5 %', () => {
    const pool = new BufferPool(300_000);
    const buffers = [pool.take(200_000), pool.take(200_000)];
    for (const buffer of buffers) pool.give(buffer);
    expect(pool.retained).toBe(BufferPool.capacityFor(200_000));
    for (const size of [1, 4097, 65_537, 786_464, 6_291_488]) {
      const capacity = BufferPool.capacityFor(size);
      expect(capacity).toBeGreaterThanOrEqual(size);
      expect(capacity).toBeLessThanOrEqual(Math.max(4096, size * 1.125));
    }
  });
});
