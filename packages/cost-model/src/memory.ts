import { invalidField } from './errors.js';

/** AWS Lambda memory limits (DESIGN.md §4): 128–10,240 MB in 1 MB steps. */
export const lambdaMemoryLimits = {
  minMB: 128,
  maxMB: 10_240,
  stepMB: 1,
  /** 1,769 MB buys one full vCPU of CPU credits. */
  mbPerVcpu: 1_769,
  /** 10,240 MB gets 6 vCPUs. */
  maxVcpus: 6,
} as const;

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

/** True when `memoryMB` is a valid Lambda memory size. Allocation-free; for hot loops. */
export function isValidMemoryMB(memoryMB: number): boolean {
  return (
    Number.isInteger(memoryMB) && memoryMB >= lambdaMemoryLimits.minMB && memoryMB <= lambdaMemoryLimits.maxMB
  );
}

/** Throws INVALID_INPUT naming `field` unless `memoryMB` is a valid Lambda memory size. */
export function assertMemoryMB(memoryMB: number, field = 'memoryMB'): void {
  if (typeof memoryMB !== 'number' || Number.isNaN(memoryMB))
    throw invalidField(field, `must be a number of MB, got ${String(memoryMB)}`);
  if (memoryMB < 0) throw invalidField(field, `must not be negative, got ${memoryMB}`);
  if (!Number.isInteger(memoryMB))
    throw invalidField(field, `must be a whole number of MB (1 MB steps), got ${memoryMB}`);
  if (memoryMB < lambdaMemoryLimits.minMB || memoryMB > lambdaMemoryLimits.maxMB)
    throw invalidField(
      field,
      `must be between ${lambdaMemoryLimits.minMB} and ${lambdaMemoryLimits.maxMB} MB, got ${memoryMB}`,
    );
}

/**
 * CPU share bought by a memory size, in vCPUs: memory / 1,769 MB, capped at 6 (AWS gives 6 vCPUs
 * at 10,240 MB although 10,240 / 1,769 = 5.79; the cap is the documented maximum).
 */
export function vcpuForMemory(memoryMB: number): number {
  const share = memoryMB / lambdaMemoryLimits.mbPerVcpu;
  return Math.min(share, lambdaMemoryLimits.maxVcpus);
}

/** Visible cores (threads worth using) at a memory size: ceil(vCPU share), 1…6. */
export function threadsForMemory(memoryMB: number): number {
  const threads = Math.ceil(vcpuForMemory(memoryMB));
  if (threads < 1) return 1;
  return Math.min(threads, lambdaMemoryLimits.maxVcpus);
}
