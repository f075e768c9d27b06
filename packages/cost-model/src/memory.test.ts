import { vcpusForMemory } from '@switchyard/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertMemoryMB, isValidMemoryMB, paperMemoryOptionsMB, threadsForMemory } from './memory.js';

// The cost model's CPU share is core's `vcpusForMemory`; these are the properties it relies on.

describe('memory → vCPU', () => {
  it('gives one vCPU at 1,769 MB and caps at 6 vCPU', () => {
    expect(vcpusForMemory(1769)).toBe(1);
    expect(vcpusForMemory(3538)).toBe(2);
    expect(vcpusForMemory(128)).toBeCloseTo(128 / 1769, 12);
    expect(vcpusForMemory(10_240)).toBeCloseTo(10_240 / 1769, 12);
    expect(vcpusForMemory(20_000)).toBe(6);
    expect(threadsForMemory(128)).toBe(1);
    expect(threadsForMemory(1769)).toBe(1);
    expect(threadsForMemory(1770)).toBe(2);
    expect(threadsForMemory(10_240)).toBe(6);
  });

  it('is monotone and within (0, 6] (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 128, max: 10_239 }), (m) => {
        const v = vcpusForMemory(m);
        return v > 0 && v <= 6 && v <= vcpusForMemory(m + 1);
      }),
      { seed: 7, numRuns: 200 },
    );
  });
});

describe('memory sizes', () => {
  it("lists the paper's 14 options from 128 to 3,072 MB, all valid and increasing", () => {
    expect(paperMemoryOptionsMB).toHaveLength(14);
    expect(paperMemoryOptionsMB[0]).toBe(128);
    expect(paperMemoryOptionsMB.at(-1)).toBe(3072);
    expect(paperMemoryOptionsMB).toContain(3008);
    for (let i = 1; i < paperMemoryOptionsMB.length; i++)
      expect(paperMemoryOptionsMB[i]!).toBeGreaterThan(paperMemoryOptionsMB[i - 1]!);
    expect(paperMemoryOptionsMB.every(isValidMemoryMB)).toBe(true);
  });

  it('accepts 128–10,240 MB in 1 MB steps and rejects the rest with the field name', () => {
    expect(isValidMemoryMB(128)).toBe(true);
    expect(isValidMemoryMB(129)).toBe(true);
    expect(isValidMemoryMB(10_240)).toBe(true);
    expect(isValidMemoryMB(127)).toBe(false);
    expect(isValidMemoryMB(10_241)).toBe(false);
    expect(isValidMemoryMB(256.5)).toBe(false);
    expect(() => assertMemoryMB(-128, 'functions.0.memoryMB')).toThrow(
      /functions\.0\.memoryMB: must not be negative/,
    );
    expect(() => assertMemoryMB(300.5)).toThrow(/memoryMB: must be a whole number/);
    expect(() => assertMemoryMB(64)).toThrow(/between 128 and 10240/);
  });
});
