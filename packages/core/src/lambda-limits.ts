/**
 * AWS Lambda's fixed limits, the one place the code reads them from. Sources and the date they were
 * checked: architecture/aws-lambda-facts.md.
 */
export const lambdaLimits = {
  /** Function memory: 128–10,240 MB in 1 MB steps. */
  minMemoryMB: 128,
  maxMemoryMB: 10_240,
  /** Memory that buys one full vCPU of CPU credits; CPU scales linearly with memory. */
  memoryMBPerVcpu: 1_769,
  /** vCPUs at the largest memory size. */
  maxVcpus: 6,
  /** Synchronous invoke payload, each way (request and response): 6 MB. */
  syncPayloadBytes: 6 * 1024 * 1024,
  /** Asynchronous (event) invoke payload: 1 MB. */
  asyncPayloadBytes: 1024 * 1024,
  /** Deployment package uploaded directly: 50 MB zipped. */
  zippedCodeBytes: 50 * 1024 * 1024,
  /** Function code plus all its layers, unzipped: 250 MB. */
  unzippedCodeBytes: 250 * 1024 * 1024,
  /** Container image, uncompressed: 10 GB. */
  imageBytes: 10 * 1024 * 1024 * 1024,
  /** Layers per function. */
  maxLayers: 5,
  /** Timeout of one invocation: 900 s. */
  maxTimeoutS: 900,
  /** The INIT phase of an on-demand function: 10 s. */
  initTimeoutS: 10,
  /** /tmp (ephemeral storage): 512–10,240 MB. */
  minEphemeralStorageMB: 512,
  maxEphemeralStorageMB: 10_240,
  /** Environment variables of one function, all together: 4 KB. */
  environmentBytes: 4 * 1024,
  /** Concurrent executions per region by default (a quota; accounts may have more or less). */
  defaultAccountConcurrency: 1_000,
  /** Concurrency Lambda keeps unreserved for functions without reserved concurrency (at most the account's). */
  minUnreservedConcurrency: 100,
  /** Code storage per region, all functions and layers and their versions: 75 GB (a quota). */
  defaultCodeStorageBytes: 75 * 1024 * 1024 * 1024,
  /** Billed duration is rounded up to this many milliseconds. */
  billingGranularityMs: 1,
} as const;

export type LambdaLimits = typeof lambdaLimits;

/** vCPUs a function of `memoryMB` gets: memory / 1,769 MB, fractional below one. */
export function vcpusForMemory(memoryMB: number): number {
  return Math.min(lambdaLimits.maxVcpus, memoryMB / lambdaLimits.memoryMBPerVcpu);
}
