import { vcpusForMemory } from '@switchyard/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emulatedDurationMs, vcpuThreads } from './vcpu.js';

describe('vCPU emulation', () => {
  it('gives one thread per started vCPU, capped by the cores', () => {
    expect(vcpuThreads(128, 8)).toBe(1);
    expect(vcpuThreads(1769, 8)).toBe(1);
    expect(vcpuThreads(1770, 8)).toBe(2);
    expect(vcpuThreads(10240, 8)).toBe(6);
    expect(vcpuThreads(10240, 2)).toBe(2);
  });

  it('stretches duration by 1/share below one vCPU and never shrinks it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 128, max: 10240 }),
        fc.double({ min: 0, max: 1e4, noNaN: true }),
        (memoryMB, ms) => {
          const scaled = emulatedDurationMs(ms, memoryMB);
          expect(scaled).toBeGreaterThanOrEqual(ms);
          if (memoryMB >= 1769) expect(scaled).toBe(ms);
          else expect(scaled).toBeCloseTo(ms / vcpusForMemory(memoryMB), 6);
        },
      ),
      { seed: 3, numRuns: 200 },
    );
  });
});
