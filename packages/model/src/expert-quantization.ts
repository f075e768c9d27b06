import { type ExpertQuantization, weightMatrixBytes } from '@switchyard/core';
import type { ModelConfig } from './config.js';
import { ModelError } from './errors.js';

/**
 * Weight quantization of expert graphs (architecture/quantization.md). Both formats are symmetric, so
 * a weight is `code × scale` and no zero point is stored:
 *
 * - int8: one scale per output channel, `scale = max|w| / 127`, codes in −127…127 (round half to even).
 * - int4: one scale per block of `blockSize` consecutive input values of an output channel. The block's
 *   value of largest magnitude `m` maps to code −8 (`scale = m / −8`), the rest round to the nearest of
 *   −8…7, so the 16 codes are all used (llama.cpp's Q4_0 rule). Stored as onnxruntime's MatMulNBits
 *   wants it: rows = output channels, each block's codes + 8 packed two per byte, low nibble first.
 *
 * Deterministic: the same weights give the same bytes.
 */

/** Round half to even, as onnxruntime's Round and QuantizeLinear do. */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** int8 codes [K, N] (the MatMul's B layout) and one float32 scale per output column. */
export interface Int8Weight {
  codes: Int8Array;
  scales: Float32Array;
}

/** Quantizes a [K, N] weight (MatMul B: input rows, output columns) per output column. */
export function quantizeInt8(weight: Float32Array, inFeatures: number, outFeatures: number): Int8Weight {
  const K = inFeatures;
  const N = outFeatures;
  const scales = new Float32Array(N);
  for (let k = 0; k < K; k++)
    for (let n = 0; n < N; n++) scales[n] = Math.max(scales[n]!, Math.abs(weight[k * N + n]!));
  for (let n = 0; n < N; n++) scales[n] = scales[n]! / 127;
  const codes = new Int8Array(K * N);
  for (let k = 0; k < K; k++)
    for (let n = 0; n < N; n++) {
      const scale = scales[n]!;
      codes[k * N + n] =
        scale === 0 ? 0 : Math.max(-127, Math.min(127, roundHalfEven(weight[k * N + n]! / scale)));
    }
  return { codes, scales };
}

/** The float32 weight [K, N] an int8 weight stands for. */
export function dequantizeInt8(weight: Int8Weight, inFeatures: number, outFeatures: number): Float32Array {
  const out = new Float32Array(inFeatures * outFeatures);
  for (let k = 0; k < inFeatures; k++)
    for (let n = 0; n < outFeatures; n++)
      out[k * outFeatures + n] = weight.codes[k * outFeatures + n]! * weight.scales[n]!;
  return out;
}

/** int4 codes packed for MatMulNBits ([N, K / blockSize, blockSize / 2] bytes) and [N · K / blockSize] scales. */
export interface Int4Weight {
  packed: Uint8Array;
  scales: Float32Array;
  blockSize: number;
}

/**
 * Quantizes a torch-layout [N, K] weight (output rows, input columns) block-wise along K. K must be a
 * multiple of `blockSize` (checked by `checkQuantizable`).
 */
export function quantizeInt4(
  weight: Float32Array,
  outFeatures: number,
  inFeatures: number,
  blockSize: number,
): Int4Weight {
  const N = outFeatures;
  const K = inFeatures;
  const blocksPerRow = K / blockSize;
  const packed = new Uint8Array((N * K) / 2);
  const scales = new Float32Array(N * blocksPerRow);
  for (let n = 0; n < N; n++)
    for (let b = 0; b < blocksPerRow; b++) {
      const start = n * K + b * blockSize;
      let extreme = 0;
      for (let j = 0; j < blockSize; j++) {
        const value = weight[start + j]!;
        if (Math.abs(value) > Math.abs(extreme)) extreme = value;
      }
      const scale = Math.fround(extreme / -8);
      scales[n * blocksPerRow + b] = scale;
      for (let j = 0; j < blockSize; j++) {
        const code = scale === 0 ? 0 : Math.max(-8, Math.min(7, roundHalfEven(weight[start + j]! / scale)));
        const index = (start + j) >> 1;
        packed[index] = packed[index]! | ((code + 8) << (j % 2 === 0 ? 0 : 4));
      }
    }
  return { packed, scales, blockSize };
}

/** The torch-layout [N, K] float32 weight an int4 weight stands for. */
export function dequantizeInt4(weight: Int4Weight, outFeatures: number, inFeatures: number): Float32Array {
  const out = new Float32Array(outFeatures * inFeatures);
  const blocksPerRow = inFeatures / weight.blockSize;
  for (let n = 0; n < outFeatures; n++)
    for (let k = 0; k < inFeatures; k++) {
      const index = n * inFeatures + k;
      const byte = weight.packed[index >> 1]!;
      const code = (index % 2 === 0 ? byte & 0x0f : byte >> 4) - 8;
      out[index] = code * weight.scales[n * blocksPerRow + Math.floor(k / weight.blockSize)]!;
    }
  return out;
}

/** The default int4 block: 32 input values per scale (the finer of the two; see the benchmark for 128). */
export const defaultInt4BlockSize = 32;

/** The quantization with its defaults filled in (int4's block size). */
export function resolveQuantization(quantization: ExpertQuantization | undefined): ExpertQuantization {
  if (!quantization || quantization.format === 'none') return { format: 'none' };
  if (quantization.format === 'int8') return { format: 'int8' };
  return { format: 'int4', blockSize: quantization.blockSize ?? defaultInt4BlockSize };
}

/**
 * INVALID_INPUT naming the tensor when int4 cannot quantize a weight whose input dimension is not a
 * multiple of the block size.
 */
export function checkQuantizable(
  tensorName: string,
  inFeatures: number,
  quantization: ExpertQuantization,
): void {
  if (quantization.format !== 'int4') return;
  const blockSize = quantization.blockSize ?? defaultInt4BlockSize;
  if (inFeatures % blockSize !== 0)
    throw new ModelError({
      code: 'INVALID_INPUT',
      message: `int4 quantization needs the input dimension (${inFeatures}) to be a multiple of the block size ${blockSize}; use --quantize int8, or a block size that divides it`,
      location: `tensor ${tensorName}`,
    });
}

/** Bytes of one routed expert's weights in a format (gpt_oss biases stay float32). */
export function expertWeightBytes(config: ModelConfig, quantization: ExpertQuantization): number {
  const H = config.hiddenSize;
  const I = config.expertIntermediateSize;
  const matrices = 2 * weightMatrixBytes(H, I, quantization) + weightMatrixBytes(I, H, quantization);
  return matrices + (config.expertKind === 'gpt-oss' ? 4 * (2 * I + H) : 0);
}

/**
 * Checks that every routed expert (and, with `sharedExperts`, shared expert) of the config can be
 * quantized, naming the first tensor that cannot; run at load so the failure is not deferred to an
 * expert's first use.
 */
export function checkModelQuantizable(
  config: ModelConfig,
  quantization: ExpertQuantization,
  sharedExperts: boolean,
): void {
  const layer = config.moeLayers[0];
  if (layer === undefined || quantization.format !== 'int4') return;
  const names = config.names;
  const H = config.hiddenSize;
  const I = config.expertIntermediateSize;
  if (config.expertKind === 'gpt-oss') {
    checkQuantizable(names.fusedExperts(layer, 'gate_up_proj'), H, quantization);
    checkQuantizable(names.fusedExperts(layer, 'down_proj'), I, quantization);
  } else {
    checkQuantizable(names.expert(layer, 0, 'gate'), H, quantization);
    checkQuantizable(names.expert(layer, 0, 'down'), I, quantization);
  }
  if (sharedExperts && config.sharedExpertIntermediateSize > 0) {
    checkQuantizable(names.sharedExpert(layer, 'gate'), H, quantization);
    checkQuantizable(names.sharedExpert(layer, 'down'), config.sharedExpertIntermediateSize, quantization);
  }
}
