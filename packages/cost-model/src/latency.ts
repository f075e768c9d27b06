import { lambdaLimits, type TransportMethod } from '@switchyard/core';
import { z } from 'zod';

/**
 * The paper's latency model parameters (architecture/paper.md, "Latency model"), in bytes, bytes
 * per second and ms.
 * Defaults are order-of-magnitude Lambda figures; calibrate them from measurements.
 */
export const transportParametersSchema = z.object({
  /** B_s: object-storage (S3) bandwidth seen by one function. */
  storageBandwidthBytesPerS: z.number().positive().default(80e6),
  /** B_f: function payload bandwidth (invoke request/response). */
  functionBandwidthBytesPerS: z.number().positive().default(50e6),
  /** T_dl: object-storage access delay per request. */
  storageAccessMs: z.number().nonnegative().default(20),
  /** T_start: warm start (invoke overhead). */
  warmStartMs: z.number().nonnegative().default(10),
  /** T_load: time to load the next layer after the gather. */
  nextLayerLoadMs: z.number().nonnegative().default(0),
  /** Synchronous invoke payload limit each way (Lambda's 6 MB, architecture/aws-lambda-facts.md). */
  payloadLimitBytes: z.number().int().positive().default(lambdaLimits.syncPayloadBytes),
  /** Bytes on the wire per activation byte (1 = binary; 4/3 = base64 in a JSON envelope). */
  payloadExpansion: z.number().min(1).default(1),
  /** Whether T_h includes downloading the expert's parameters (P / B_s) on every invocation, as in the paper. */
  parameterDownloadPerInvocation: z.boolean().default(true),
});
export type TransportParameters = z.output<typeof transportParametersSchema>;
export type TransportParametersInput = z.input<typeof transportParametersSchema>;

export const defaultTransportParameters: TransportParameters = Object.freeze(
  transportParametersSchema.parse({}),
);

/**
 * What one replica of one function does per batch. All sizes are bytes; `computeMsPerToken` is
 * t_cal at the function's memory size and `computeFixedMs` the fixed part of one compute call
 * (0 reproduces the paper exactly). With a measured profile both are the local line of its
 * piecewise-linear curve at the call size (`CostEvaluator.computeLine`), so fixed + r·t_cal is the
 * measured curve at r; the fixed part can then be negative on a steep segment.
 */
export interface ReplicaWork {
  /** r: tokens this replica processes. */
  tokens: number;
  /** P: parameter bytes the function holds. */
  parameterBytes: number;
  /** D_in / D_out: activation bytes per token in and out. */
  inputBytesPerToken: number;
  outputBytesPerToken: number;
  computeMsPerToken: number;
  computeFixedMs: number;
}

/** T_h = P/B_s + T_dl + T_start (head time: parameter download, S3 access delay, warm start). */
export function headTimeMs(parameterBytes: number, transport: TransportParameters): number {
  const download = transport.parameterDownloadPerInvocation
    ? (parameterBytes / transport.storageBandwidthBytesPerS) * 1000
    : 0;
  return download + transport.storageAccessMs + transport.warmStartMs;
}

/**
 * Method 1, pipelined through object storage. The input is cut into mini-batches of at most β
 * tokens; downloading + computing mini-batch k overlaps uploading k−1:
 *   t_blk = T_dl + β·max(D_in/B_s + t_cal, D_out/B_s)
 *   t_rep = T_h + t_nblk + n_blk·t_blk
 * The paper writes the last term β·t_blk with β as the pipeline degree; since β is defined as the
 * mini-batch size in tokens, the number of mini-batches is n_blk = ⌈r/β⌉ (they coincide when the
 * batch is cut into β pieces of β tokens). t_nblk is the part nothing overlaps: the last
 * mini-batch's upload, T_dl + β·D_out/B_s. A mini-batch never holds more than r tokens, and the
 * fixed part of one compute call (0 in the paper) is paid once per mini-batch.
 * Allocation-free.
 */
export function pipelinedReplicaMs(work: ReplicaWork, beta: number, transport: TransportParameters): number {
  const r = work.tokens;
  if (r <= 0) return 0;
  const blockTokens = Math.min(beta, r);
  const blocks = Math.ceil(r / blockTokens);
  const bytesPerMs = transport.storageBandwidthBytesPerS / 1000;
  const downloadAndCompute = work.inputBytesPerToken / bytesPerMs + work.computeMsPerToken;
  const upload = work.outputBytesPerToken / bytesPerMs;
  const perTokenMs = Math.max(downloadAndCompute, upload);
  // Σ over blocks of t_blk; a short last block costs its own tokens, not a full β (identical to
  // n_blk·t_blk when β divides r).
  const blocksMs = blocks * (transport.storageAccessMs + work.computeFixedMs) + r * perTokenMs;
  const lastBlockTokens = r - (blocks - 1) * blockTokens;
  const drainMs = transport.storageAccessMs + lastBlockTokens * upload;
  return headTimeMs(work.parameterBytes, transport) + drainMs + blocksMs;
}

/** Method 2, non-pipelined through object storage: T_h + 2·T_dl + r·(D_in + D_out)/B_s + r·t_cal. */
export function storageReplicaMs(work: ReplicaWork, transport: TransportParameters): number {
  const r = work.tokens;
  if (r <= 0) return 0;
  const bytesPerMs = transport.storageBandwidthBytesPerS / 1000;
  return (
    headTimeMs(work.parameterBytes, transport) +
    2 * transport.storageAccessMs +
    (r * (work.inputBytesPerToken + work.outputBytesPerToken)) / bytesPerMs +
    r * work.computeMsPerToken +
    work.computeFixedMs
  );
}

/** Method 3, direct invocation payload: T_h + r·(D_out/B_f + t_cal). */
export function directReplicaMs(work: ReplicaWork, transport: TransportParameters): number {
  const r = work.tokens;
  if (r <= 0) return 0;
  const bytesPerMs = transport.functionBandwidthBytesPerS / 1000;
  const outBytes = work.outputBytesPerToken * transport.payloadExpansion;
  return (
    headTimeMs(work.parameterBytes, transport) +
    r * (outBytes / bytesPerMs + work.computeMsPerToken) +
    work.computeFixedMs
  );
}

/** Per-replica time for any method. Allocation-free. */
export function replicaMs(
  method: TransportMethod,
  work: ReplicaWork,
  beta: number,
  transport: TransportParameters,
): number {
  if (method === 's3-pipelined') return pipelinedReplicaMs(work, beta, transport);
  if (method === 's3') return storageReplicaMs(work, transport);
  return directReplicaMs(work, transport);
}

/**
 * Layer latency from the per-replica times. Direct (3): r·D_in/B_f + max t_rep + T_load, where r is
 * the largest replica's tokens (its request payload must arrive before it starts). S3 methods:
 * max t_rep + T_load (the inputs are written to storage while the functions start).
 */
export function layerLatencyMs(
  method: TransportMethod,
  maxReplicaMs: number,
  maxReplicaTokens: number,
  inputBytesPerToken: number,
  transport: TransportParameters,
): number {
  if (maxReplicaTokens <= 0) return transport.nextLayerLoadMs;
  if (method === 'direct') {
    const scatterMs =
      ((maxReplicaTokens * inputBytesPerToken * transport.payloadExpansion) /
        transport.functionBandwidthBytesPerS) *
      1000;
    return scatterMs + maxReplicaMs + transport.nextLayerLoadMs;
  }
  return maxReplicaMs + transport.nextLayerLoadMs;
}

/** Payload constraint: method 3 only if r·D_in (and r·D_out) fit the synchronous payload limit. */
export function fitsPayload(
  tokens: number,
  inputBytesPerToken: number,
  outputBytesPerToken: number,
  transport: TransportParameters,
  headerBytes = 0,
): boolean {
  const limit = transport.payloadLimitBytes;
  const expansion = transport.payloadExpansion;
  return (
    (tokens * inputBytesPerToken + headerBytes) * expansion <= limit &&
    (tokens * outputBytesPerToken + headerBytes) * expansion <= limit
  );
}

/** What a function needs in memory besides its inputs and outputs. */
export interface MemoryFootprint {
  parameterBytes: number;
  /** Intermediate activations per token (e.g. gate/up/act of the FFN in float32). */
  intermediateBytesPerToken: number;
  inputBytesPerToken: number;
  outputBytesPerToken: number;
  /** Runtime baseline (Node.js + onnxruntime) in MB. */
  runtimeOverheadMB: number;
}

/** Bytes needed: params + intermediates + r·(D_in + D_out) + runtime (paper's memory constraint). */
export function requiredMemoryBytes(tokens: number, footprint: MemoryFootprint): number {
  return (
    footprint.runtimeOverheadMB * 1024 * 1024 +
    footprint.parameterBytes +
    tokens *
      (footprint.intermediateBytesPerToken + footprint.inputBytesPerToken + footprint.outputBytesPerToken)
  );
}

/** Memory constraint: true when `tokens` fit in `memoryMB`. Allocation-free. */
export function fitsMemory(memoryMB: number, tokens: number, footprint: MemoryFootprint): boolean {
  return requiredMemoryBytes(tokens, footprint) <= memoryMB * 1024 * 1024;
}

/** SLO constraint. */
export function meetsSlo(latencyMs: number, sloMs: number): boolean {
  return latencyMs <= sloMs;
}
