import { lambdaLimits, vcpusForMemory } from '@switchyard/core';
import { invalidField } from './errors.js';

/**
 * The paper's 14 memory options (128…3072 MB). The paper gives the count and range only; we take
 * 128 MB, every multiple of 256 MB up to 3,072 MB, and 3,008 MB (LambdaML's size and the old
 * Lambda maximum), which is exactly 14 sizes.
 */
export const paperMemoryOptionsMB: readonly number[] = Object.freeze([
  128, 256, 512, 768, 1024, 1280, 1536, 1792, 2048, 2304, 2560, 2816, 3008, 3072,
]);

/** LambdaML's fixed function size. */
export const lambdaMlMemoryMB = 3008;

/**
 * True when `memoryMB` is a valid Lambda memory size (whole MB in core's `lambdaLimits` range).
 * Allocation-free; for hot loops.
 */
export function isValidMemoryMB(memoryMB: number): boolean {
  return (
    Number.isInteger(memoryMB) && memoryMB >= lambdaLimits.minMemoryMB && memoryMB <= lambdaLimits.maxMemoryMB
  );
}

/** Throws INVALID_INPUT naming `field` unless `memoryMB` is a valid Lambda memory size. */
export function assertMemoryMB(memoryMB: number, field = 'memoryMB'): void {
  if (typeof memoryMB !== 'number' || Number.isNaN(memoryMB))
    throw invalidField(field, `must be a number of MB, got ${String(memoryMB)}`);
  if (memoryMB < 0) throw invalidField(field, `must not be negative, got ${memoryMB}`);
  if (!Number.isInteger(memoryMB))
    throw invalidField(field, `must be a whole number of MB (1 MB steps), got ${memoryMB}`);
  if (memoryMB < lambdaLimits.minMemoryMB || memoryMB > lambdaLimits.maxMemoryMB)
    throw invalidField(
      field,
      `must be between ${lambdaLimits.minMemoryMB} and ${lambdaLimits.maxMemoryMB} MB, got ${memoryMB}`,
    );
}

/**
 * Visible cores (threads worth using) at a memory size: ⌈vCPU share⌉ (core's `vcpusForMemory`:
 * memory / 1,769 MB, at most 6), at least 1.
 */
export function threadsForMemory(memoryMB: number): number {
  const threads = Math.ceil(vcpusForMemory(memoryMB));
  if (threads < 1) return 1;
  return Math.min(threads, lambdaLimits.maxVcpus);
}
