import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FluidQueue } from './cpu-baselines-queue.js';

describe('FluidQueue', () => {
  it('serves at the capacity of the moment and reads a wait across capacity changes', () => {
    const queue = new FluidQueue(2);
    queue.advance(1);
    expect(queue.arrive(10)).toBe(0); // t = 1: 10 vCPU-s arrive to an empty queue
    queue.advance(3); // 2 vCPUs for 2 s: 4 served
    expect(queue.backlogVcpuS).toBe(6);
    const ahead = queue.arrive(1); // t = 3: 6 vCPU-s ahead
    expect(ahead).toBe(6);
    queue.setCapacity(0); // nothing served from 3 to 5
    queue.advance(5);
    queue.setCapacity(4); // then 4 vCPUs: the 6 ahead are gone at 6.5
    expect(queue.drainS()).toBe(5 + 7 / 4);
    queue.advance(10);
    expect(queue.waitS(3, ahead)).toBe(3.5);
    expect(queue.waitS(1, 0)).toBe(0);
    // Arriving to an empty queue with no capacity: it waits for capacity (from 5).
    expect(queue.waitS(4, 0)).toBe(1);
    expect(queue.servedVcpuS).toBe(11);
  });

  it('agrees with a fine time-stepped simulation of FIFO service', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 1, max: 40 })), {
          maxLength: 25,
        }),
        fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 20, maxLength: 20 }),
        (arrivals, capacities) => {
          // Capacity changes every 10 s (whole numbers); arrivals at whole seconds: a 1 ms step is exact.
          const sorted = [...arrivals].sort((a, b) => a[0] - b[0]);
          const capacityAt = (t: number) => capacities[Math.min(19, Math.floor(t / 10))]! || 0;
          const queue = new FluidQueue(capacityAt(0));
          const ahead: number[] = [];
          for (const [t, work] of sorted) {
            for (let s = Math.floor(queue.nowS / 10) + 1; s * 10 <= t; s++) {
              queue.advance(s * 10);
              queue.setCapacity(capacityAt(s * 10));
            }
            queue.advance(t);
            ahead.push(queue.arrive(work));
          }
          for (let s = Math.floor(queue.nowS / 10) + 1; s < 20; s++) {
            queue.advance(s * 10);
            queue.setCapacity(capacityAt(s * 10));
          }
          queue.advance(1000);
          // Brute force, in 1 ms steps: the backlog as a running sum, and for each request the time until
          // the work that was ahead of it has been served.
          const stepS = 0.001;
          let backlog = 0;
          let next = 0;
          const bruteAhead: number[] = [];
          for (let k = 0; k <= 100_000 && next < sorted.length; k++) {
            const now = k * stepS;
            while (next < sorted.length && sorted[next]![0] <= now + 1e-12) {
              bruteAhead.push(backlog);
              backlog += sorted[next]![1];
              next++;
            }
            backlog = Math.max(0, backlog - capacityAt(now) * stepS);
          }
          sorted.forEach(([t], i) => {
            expect(Math.abs(ahead[i]! - bruteAhead[i]!)).toBeLessThan(1e-6);
            let left = bruteAhead[i]!;
            let k = Math.round(t / stepS);
            // Its own work starts once the work ahead is served and there is capacity to serve it.
            while ((left > 1e-9 || capacityAt(k * stepS) === 0) && k < 1_000_000)
              left -= capacityAt(k++ * stepS) * stepS;
            const expected = k >= 1_000_000 ? Number.POSITIVE_INFINITY : k * stepS - t;
            const wait = queue.waitS(t, ahead[i]!);
            if (Number.isFinite(expected)) expect(Math.abs(wait - expected)).toBeLessThan(0.002);
            else expect(wait).toBe(Number.POSITIVE_INFINITY);
          });
        },
      ),
      { seed: 51, numRuns: 25 },
    );
  });
});
