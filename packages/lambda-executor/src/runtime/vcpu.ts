import { availableParallelism } from 'node:os';

/** Lambda allocates CPU in proportion to memory: 1,769 MB buys one full vCPU (DESIGN.md §4). */
export const megabytesPerVcpu = 1769;
/** Lambda's ceiling: 6 vCPUs at 10,240 MB. */
export const maxLambdaVcpus = 6;

/** The vCPU share a function of `memoryMB` gets on Lambda (fractional below 1,769 MB). */
export function vcpuShare(memoryMB: number): number {
  return Math.min(memoryMB / megabytesPerVcpu, maxLambdaVcpus);
}

/**
 * Threads a function should give onnxruntime: one per (started) vCPU of its share, never more than
 * this machine has. Both the local runtime (as `SWITCHYARD_VCPU_THREADS`) and the expert handler use it.
 */
export function vcpuThreads(memoryMB: number, cores: number = availableParallelism()): number {
  return Math.max(1, Math.min(Math.ceil(vcpuShare(memoryMB)), cores));
}

/**
 * How much longer the local runtime reports (and makes the caller wait) to emulate a fractional
 * share: a CPU-bound handler measured at `measuredMs` on one full core takes `measuredMs / share` on
 * a slice of `share` < 1 vCPU. At ≥ 1 vCPU the threads carry the share, so there is no scaling.
 */
export function emulatedDurationMs(measuredMs: number, memoryMB: number): number {
  const share = vcpuShare(memoryMB);
  return share >= 1 ? measuredMs : measuredMs / share;
}
