import { availableParallelism } from 'node:os';
import { vcpusForMemory } from '@switchyard/core';

/**
 * Threads a function instance is given: one per started vCPU of its memory's share (core's
 * `vcpusForMemory`; architecture/aws-lambda-facts.md), never more than this machine has. The runtime
 * tells the function as `SWITCHYARD_VCPU_THREADS`.
 */
export function vcpuThreads(memoryMB: number, cores: number = availableParallelism()): number {
  return Math.max(1, Math.min(Math.ceil(vcpusForMemory(memoryMB)), cores));
}

/**
 * How much longer the local runtime reports (and makes the caller wait) to emulate a fractional
 * share: a CPU-bound handler measured at `measuredMs` on one full core takes `measuredMs / share` on
 * a slice of `share` < 1 vCPU. At ≥ 1 vCPU the threads carry the share, so there is no scaling.
 */
export function emulatedDurationMs(measuredMs: number, memoryMB: number): number {
  const share = vcpusForMemory(memoryMB);
  return share >= 1 ? measuredMs : measuredMs / share;
}
