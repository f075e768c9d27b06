import { lambdaLimits, type TransportMethod, vcpusForMemory } from '@switchyard/core';
import { computeCurveAt, curveSegment } from './compute-curve.js';
import type { ComputeProfile } from './compute-profile.js';
import { type InvocationOverhead, invocationFixedMs, invocationPerByteMs } from './invocation-overhead.js';
import { billedDurationMs, gbSecondsOf } from './lambda-cost.js';
import {
  fitsMemory,
  fitsPayload,
  layerLatencyMs,
  type MemoryFootprint,
  type ReplicaWork,
  replicaMs,
  type TransportParameters,
} from './latency.js';
import { type CostProfile, defaultRuntimeOverheadMB } from './options.js';
import type { LambdaRates } from './price-table.js';

/** Bytes per activation element for each wire dtype. */
export const wireBytesPerElement = { f32: 4, f16: 2, bf16: 2 } as const;

export interface CostEvaluatorOptions {
  rates: LambdaRates;
  compute: ComputeProfile;
  transport: TransportParameters;
  hiddenSize: number;
  expertIntermediateSize: number;
  wireDtype?: keyof typeof wireBytesPerElement;
  runtimeOverheadMB?: number;
  intermediateBytesPerToken?: number;
  ephemeralStorageMB?: number;
  /** Calibrated per-invocation handler overhead, added to the compute terms (none by default). */
  invocationOverhead?: InvocationOverhead;
  /**
   * Resident bytes per byte of expert weights (a function's measured memory: onnxruntime may keep
   * packed copies); 1 by default.
   */
  residentBytesPerWeightByte?: number;
}

/** Cost and time of one function (all its replicas) for one batch. Reused as an out-parameter. */
export interface FunctionEstimate {
  /** Slowest replica's time. */
  latencyMs: number;
  /** Layer latency contribution of this function alone (adds the scatter time for direct). */
  layerLatencyMs: number;
  maxReplicaTokens: number;
  invocations: number;
  billedMs: number;
  gbSeconds: number;
  computeUsd: number;
  requestUsd: number;
  storageUsd: number;
  s3Usd: number;
  s3Puts: number;
  s3Gets: number;
  totalUsd: number;
  fitsMemory: boolean;
  fitsPayload: boolean;
}

export function emptyFunctionEstimate(): FunctionEstimate {
  return {
    latencyMs: 0,
    layerLatencyMs: 0,
    maxReplicaTokens: 0,
    invocations: 0,
    billedMs: 0,
    gbSeconds: 0,
    computeUsd: 0,
    requestUsd: 0,
    storageUsd: 0,
    s3Usd: 0,
    s3Puts: 0,
    s3Gets: 0,
    totalUsd: 0,
    fitsMemory: true,
    fitsPayload: true,
  };
}

/**
 * The planner's inner loop: per-replica time (paper latency model with the measured compute
 * profile) and billed cost at marginal (first-tier) prices. Compute coefficients are cached per MB,
 * scratch objects are reused, so `replicaMs`/`replicaUsd`/`evaluateFunction(…, out)` allocate
 * nothing. Not safe to share across concurrent async callers that interleave (it is synchronous).
 */
export class CostEvaluator {
  readonly rates: LambdaRates;
  readonly compute: ComputeProfile;
  readonly transport: TransportParameters;
  readonly inputBytesPerToken: number;
  readonly outputBytesPerToken: number;
  readonly footprint: MemoryFootprint;
  readonly ephemeralStorageMB: number;
  readonly invocationOverhead: InvocationOverhead | undefined;
  readonly residentBytesPerWeightByte: number;
  /** The compute curve's knot times per MB (filled on first use), on the shared token grid. */
  private readonly curveCache: (Float64Array | undefined)[] = new Array(lambdaLimits.maxMemoryMB + 1);
  private readonly curveTokens: Float64Array;
  private readonly segment = { fixedMs: 0, perTokenMs: 0 };
  private readonly work: ReplicaWork = {
    tokens: 0,
    parameterBytes: 0,
    inputBytesPerToken: 0,
    outputBytesPerToken: 0,
    computeMsPerToken: 0,
    computeFixedMs: 0,
  };

  constructor(options: CostEvaluatorOptions) {
    this.rates = options.rates;
    this.compute = options.compute;
    this.transport = options.transport;
    const bytes = wireBytesPerElement[options.wireDtype ?? 'f32'];
    this.inputBytesPerToken = options.hiddenSize * bytes;
    this.outputBytesPerToken = options.hiddenSize * bytes;
    this.footprint = {
      parameterBytes: 0,
      intermediateBytesPerToken: options.intermediateBytesPerToken ?? 3 * options.expertIntermediateSize * 4,
      // In memory the function holds float32 activations whatever the wire dtype.
      inputBytesPerToken: options.hiddenSize * 4,
      outputBytesPerToken: options.hiddenSize * 4,
      runtimeOverheadMB: options.runtimeOverheadMB ?? defaultRuntimeOverheadMB,
    };
    this.ephemeralStorageMB = options.ephemeralStorageMB ?? lambdaLimits.minEphemeralStorageMB;
    this.curveTokens = computeCurveAt(options.compute, 1).tokens;
    this.invocationOverhead = options.invocationOverhead;
    this.residentBytesPerWeightByte = options.residentBytesPerWeightByte ?? 1;
  }

  /** The memory `parameterBytes` of expert weights take inside a function (measured residency). */
  residentBytes(parameterBytes: number): number {
    return parameterBytes * this.residentBytesPerWeightByte;
  }

  /** The compute curve's knot times at a memory size (cached per MB). */
  private curveMs(memoryMB: number): Float64Array {
    let values = this.curveCache[memoryMB];
    if (values === undefined) {
      values = computeCurveAt(this.compute, vcpusForMemory(memoryMB)).durationMs;
      this.curveCache[memoryMB] = values;
    }
    return values;
  }

  /**
   * The compute curve's local line at a memory size around a call of `callTokens` tokens: t_cal
   * (per token) and the fixed part, as the latency equations take them. Allocation-free after the
   * first call per MB.
   */
  computeLine(memoryMB: number, callTokens: number): { fixedMs: number; perTokenMs: number } {
    return curveSegment(this.curveTokens, this.curveMs(memoryMB), callTokens, this.segment);
  }

  /** `callTokens`: tokens per compute call (the mini-batch for pipelined S3, else all r). */
  private fill(tokens: number, memoryMB: number, parameterBytes: number, callTokens: number): ReplicaWork {
    const work = this.work;
    const line = this.computeLine(memoryMB, callTokens);
    work.tokens = tokens;
    work.parameterBytes = parameterBytes;
    work.inputBytesPerToken = this.inputBytesPerToken;
    work.outputBytesPerToken = this.outputBytesPerToken;
    // The calibrated invocation overhead (if any) rides on the compute terms: its fixed part per
    // call, its per-byte part per token's wire bytes (request + response).
    work.computeMsPerToken =
      line.perTokenMs +
      invocationPerByteMs(this.invocationOverhead, memoryMB) *
        (this.inputBytesPerToken + this.outputBytesPerToken);
    work.computeFixedMs = line.fixedMs + invocationFixedMs(this.invocationOverhead, memoryMB);
    return work;
  }

  /** Per-replica time (ms) by the paper's equations for `method`. */
  replicaMs(
    method: TransportMethod,
    tokens: number,
    memoryMB: number,
    beta: number,
    parameterBytes: number,
  ): number {
    // One compute call per mini-batch when pipelined (a short last one is costed on the same
    // segment), else one call over all r tokens: the curve's line there is exact at that size.
    const callTokens = method === 's3-pipelined' ? Math.min(beta, tokens) : tokens;
    return replicaMs(method, this.fill(tokens, memoryMB, parameterBytes, callTokens), beta, this.transport);
  }

  /** S3 PUTs per replica invocation: input and output objects, one each per mini-batch when pipelined. */
  s3Puts(method: TransportMethod, tokens: number, beta: number): number {
    if (tokens <= 0) return 0;
    if (method === 's3-pipelined') return 2 * Math.ceil(tokens / Math.min(beta, tokens));
    if (method === 's3') return 2;
    return 0;
  }

  /** S3 GETs per replica invocation: as many as PUTs, plus the parameter download when T_h includes it. */
  s3Gets(method: TransportMethod, tokens: number, beta: number): number {
    if (tokens <= 0) return 0;
    const parameterGets = this.transport.parameterDownloadPerInvocation ? 1 : 0;
    return this.s3Puts(method, tokens, beta) + parameterGets;
  }

  /** Billed cost (USD) of one replica invocation: duration + request + storage + S3. */
  replicaUsd(
    method: TransportMethod,
    tokens: number,
    memoryMB: number,
    beta: number,
    parameterBytes: number,
  ): number {
    if (tokens <= 0) return 0;
    const ms = billedDurationMs(
      this.replicaMs(method, tokens, memoryMB, beta, parameterBytes),
      this.rates.billingGranularityMs,
    );
    const extraStorageGb =
      Math.max(0, this.ephemeralStorageMB - this.rates.includedEphemeralStorageMB) / 1024;
    return (
      gbSecondsOf(memoryMB, ms) * this.rates.usdPerGbSecond +
      this.rates.usdPerRequest +
      extraStorageGb * (ms / 1000) * this.rates.ephemeralUsdPerGbSecond +
      this.s3Puts(method, tokens, beta) * this.rates.s3PutUsd +
      this.s3Gets(method, tokens, beta) * this.rates.s3GetUsd
    );
  }

  /**
   * One function with `replicas` replicas sharing `totalTokens` evenly (the first `totalTokens mod
   * replicas` get one more). Writes into `out` (allocate one with `emptyFunctionEstimate()` and
   * reuse it) and returns it.
   */
  evaluateFunction(
    method: TransportMethod,
    totalTokens: number,
    replicas: number,
    memoryMB: number,
    beta: number,
    parameterBytes: number,
    out: FunctionEstimate = emptyFunctionEstimate(),
  ): FunctionEstimate {
    const base = Math.floor(totalTokens / replicas);
    const extra = totalTokens - base * replicas;
    out.latencyMs = 0;
    out.maxReplicaTokens = extra > 0 ? base + 1 : base;
    out.invocations = 0;
    out.billedMs = 0;
    out.s3Puts = 0;
    out.s3Gets = 0;
    // Two replica sizes at most: `extra` replicas of base+1 tokens, the rest of base tokens.
    for (let kind = 0; kind < 2; kind++) {
      const tokens = kind === 0 ? base + 1 : base;
      const count = kind === 0 ? extra : replicas - extra;
      if (count === 0 || tokens === 0) continue;
      const ms = this.replicaMs(method, tokens, memoryMB, beta, parameterBytes);
      if (ms > out.latencyMs) out.latencyMs = ms;
      out.invocations += count;
      out.billedMs += count * billedDurationMs(ms, this.rates.billingGranularityMs);
      out.s3Puts += count * this.s3Puts(method, tokens, beta);
      out.s3Gets += count * this.s3Gets(method, tokens, beta);
    }
    out.gbSeconds = gbSecondsOf(memoryMB, out.billedMs);
    out.computeUsd = out.gbSeconds * this.rates.usdPerGbSecond;
    out.requestUsd = out.invocations * this.rates.usdPerRequest;
    const extraStorageGb =
      Math.max(0, this.ephemeralStorageMB - this.rates.includedEphemeralStorageMB) / 1024;
    out.storageUsd = extraStorageGb * (out.billedMs / 1000) * this.rates.ephemeralUsdPerGbSecond;
    out.s3Usd = out.s3Puts * this.rates.s3PutUsd + out.s3Gets * this.rates.s3GetUsd;
    out.totalUsd = out.computeUsd + out.requestUsd + out.storageUsd + out.s3Usd;
    out.layerLatencyMs = layerLatencyMs(
      method,
      out.latencyMs,
      out.maxReplicaTokens,
      this.inputBytesPerToken,
      this.transport,
    );
    this.footprint.parameterBytes = this.residentBytes(parameterBytes);
    out.fitsMemory = fitsMemory(memoryMB, out.maxReplicaTokens, this.footprint);
    out.fitsPayload =
      method !== 'direct' ||
      fitsPayload(out.maxReplicaTokens, this.inputBytesPerToken, this.outputBytesPerToken, this.transport);
    return out;
  }
}

/** The evaluator for one model shape under a cost profile at resolved rates, every profile setting applied. */
export function createCostEvaluator(options: {
  rates: LambdaRates;
  profile: CostProfile;
  hiddenSize: number;
  expertIntermediateSize: number;
  wireDtype: keyof typeof wireBytesPerElement;
}): CostEvaluator {
  const { profile } = options;
  // A measured memory block (a function's peak RSS) replaces the default runtime baseline and says
  // how many bytes an expert's weights really keep resident.
  const memory = profile.compute.memory;
  return new CostEvaluator({
    rates: options.rates,
    compute: profile.compute,
    transport: profile.transport,
    hiddenSize: options.hiddenSize,
    expertIntermediateSize: options.expertIntermediateSize,
    wireDtype: options.wireDtype,
    runtimeOverheadMB: memory?.runtimeOverheadMB ?? profile.runtimeOverheadMB,
    residentBytesPerWeightByte: memory ? memory.residentBytesPerExpert / memory.weightBytesPerExpert : 1,
    intermediateBytesPerToken: profile.intermediateBytesPerToken,
    ephemeralStorageMB: profile.ephemeralStorageMB,
    invocationOverhead: profile.invocationOverhead,
  });
}
