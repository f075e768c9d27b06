import { type Dtype, toFloat32Array } from '@switchyard/core';
import { modelLoadError } from './errors.js';

/**
 * Quantized weights in checkpoints, dequantized to float32 on load (architecture/quantization.md):
 *
 * - FP8 with block scales (DeepSeek-V3): a 2-D weight `X` of dtype F8_E4M3 or F8_E5M2 and a scale tensor
 *   `X_scale_inv` of shape [⌈rows / 128⌉, ⌈cols / 128⌉] (the block from config.json's
 *   `quantization_config.weight_block_size`); the weight is `fp8 × scale` of its 128×128 block.
 * - MXFP4 (gpt-oss, OCP microscaling): `X_blocks` U8 [..., rows, G, 16] holds 32 E2M1 codes per group
 *   (two per byte, low nibble first) and `X_scales` U8 [..., rows, G] one E8M0 exponent per group; the
 *   value is `e2m1 × 2^(scale − 127)`. Like transformers' gpt-oss loader, the dequantized [..., rows,
 *   G·32] swaps its last two axes, so `X` is [..., G·32, rows].
 */

/** Weight dtypes read as they are. */
export const plainWeightDtypes: readonly Dtype[] = ['F32', 'BF16', 'F16'];
/** 8-bit float weight dtypes that need a block-scale tensor. */
export const fp8WeightDtypes: readonly Dtype[] = ['F8_E4M3', 'F8_E5M2'];
/** Dtypes a block-scale tensor may have. */
const scaleDtypes: readonly Dtype[] = ['F32', 'BF16', 'F16', 'F8_E8M0'];

/** Suffixes of the tensors that carry a quantized weight's scales and codes. */
export const fp8ScaleSuffix = '_scale_inv';
export const mxfp4BlocksSuffix = '_blocks';
export const mxfp4ScalesSuffix = '_scales';

/** E2M1 values per MXFP4 group; bytes per group. */
export const mxfp4GroupSize = 32;
const mxfp4GroupBytes = mxfp4GroupSize / 2;

/** The default DeepSeek-V3 FP8 block (rows × columns of the weight per scale). */
export const defaultFp8BlockSize: readonly [number, number] = [128, 128];

/**
 * An E2M1 code (OCP MX FP4: sign bit 3, exponent bits 2–1 with bias 1, mantissa bit 0) as a number:
 * exponent 0 is subnormal (0 or 0.5), so the magnitudes are 0, 0.5, 1, 1.5, 2, 3, 4, 6.
 */
export function e2m1ToNumber(code: number): number {
  const sign = code & 0b1000 ? -1 : 1;
  const exponent = (code >> 1) & 0b11;
  const mantissa = code & 1;
  return exponent === 0 ? sign * mantissa * 0.5 : sign * (1 + mantissa / 2) * 2 ** (exponent - 1);
}

const e2m1Table = Float32Array.from({ length: 16 }, (_, code) => e2m1ToNumber(code));

/** What the dequantizers need of a tensor: where it is and its header fields. */
export interface TensorRef {
  name: string;
  dtype: Dtype;
  shape: readonly number[];
  /** The file holding it, for error locations. */
  source: string;
}

function where(tensor: TensorRef): string {
  return `${tensor.source}: tensor ${tensor.name}`;
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** The FP8 block size from config.json's `quantization_config.weight_block_size` (default 128 × 128). */
export function fp8BlockSize(
  rawConfig: Record<string, unknown>,
  configPath: string,
): readonly [number, number] {
  const quantization = rawConfig.quantization_config as { weight_block_size?: unknown } | undefined;
  const block = quantization?.weight_block_size;
  if (block === undefined || block === null) return defaultFp8BlockSize;
  if (
    !Array.isArray(block) ||
    block.length !== 2 ||
    !block.every((value) => Number.isInteger(value) && (value as number) > 0)
  )
    throw modelLoadError(
      `weight_block_size must be two positive integers [rows, columns], got ${JSON.stringify(block)}`,
      `${configPath}: quantization_config.weight_block_size`,
    );
  return [block[0] as number, block[1] as number];
}

/**
 * Checks an FP8 weight and its scale tensor before any byte is read: a 2-D weight, a scale of dtype
 * F32/BF16/F16/E8M0 and of shape [⌈rows / blockRows⌉, ⌈cols / blockCols⌉]. Errors name the tensor.
 */
export function checkFp8Pair(
  weight: TensorRef,
  scale: TensorRef | undefined,
  block: readonly [number, number],
): void {
  if (weight.shape.length !== 2)
    throw modelLoadError(
      `is ${weight.dtype} with shape ${shapeText(weight.shape)}; block-scaled FP8 weights must be 2-D`,
      where(weight),
    );
  if (!scale)
    throw modelLoadError(
      `is ${weight.dtype} but the checkpoint has no block-scale tensor ${weight.name}${fp8ScaleSuffix}`,
      where(weight),
    );
  if (!scaleDtypes.includes(scale.dtype))
    throw modelLoadError(
      `has dtype ${scale.dtype}; a block-scale tensor must be ${scaleDtypes.join(', ')}`,
      where(scale),
    );
  const [rows, cols] = weight.shape as [number, number];
  const expected = [Math.ceil(rows / block[0]), Math.ceil(cols / block[1])];
  if (scale.shape.length !== 2 || scale.shape[0] !== expected[0] || scale.shape[1] !== expected[1])
    throw modelLoadError(
      `has shape ${shapeText(scale.shape)}, expected ${shapeText(expected)}: one scale per ${block[0]}×${block[1]} block of ${weight.name} ${shapeText(weight.shape)}`,
      where(scale),
    );
}

/** `fp8[r, c] × scale[⌊r / blockRows⌋, ⌊c / blockCols⌋]`, each product rounded to float32. */
export function dequantizeFp8(
  weight: TensorRef,
  weightBytes: Uint8Array,
  scale: TensorRef,
  scaleBytes: Uint8Array,
  block: readonly [number, number],
): Float32Array {
  const values = toFloat32Array(weight.dtype, weightBytes);
  const scales = toFloat32Array(scale.dtype, scaleBytes);
  const [rows, cols] = weight.shape as [number, number];
  const scaleCols = scale.shape[1]!;
  for (let r = 0; r < rows; r++) {
    const scaleRow = Math.floor(r / block[0]) * scaleCols;
    const base = r * cols;
    for (let c = 0; c < cols; c++) values[base + c]! *= scales[scaleRow + Math.floor(c / block[1])]!;
  }
  return values;
}

/**
 * Checks an MXFP4 pair before any byte is read: U8 blocks [..., rows, G, 16] and U8 scales
 * [..., rows, G]. Errors name the tensor.
 */
export function checkMxfp4Pair(name: string, blocks: TensorRef, scales: TensorRef | undefined): void {
  if (!scales)
    throw modelLoadError(
      `is MXFP4 codes but the checkpoint has no scale tensor ${name}${mxfp4ScalesSuffix}`,
      where(blocks),
    );
  for (const tensor of [blocks, scales])
    if (tensor.dtype !== 'U8')
      throw modelLoadError(`has dtype ${tensor.dtype}; MXFP4 blocks and scales are U8`, where(tensor));
  const shape = blocks.shape;
  if (shape.length < 3 || shape[shape.length - 1] !== mxfp4GroupBytes)
    throw modelLoadError(
      `has shape ${shapeText(shape)}; MXFP4 blocks are [..., rows, groups, ${mxfp4GroupBytes}] (${mxfp4GroupSize} E2M1 codes per group)`,
      where(blocks),
    );
  const groupShape = shape.slice(0, -1);
  if (scales.shape.length !== groupShape.length || scales.shape.some((d, i) => d !== groupShape[i]))
    throw modelLoadError(
      `has shape ${shapeText(scales.shape)}, expected ${shapeText(groupShape)}: one E8M0 scale per group of ${blocks.name} ${shapeText(shape)}`,
      where(scales),
    );
}

/** The shape MXFP4 blocks [..., rows, G, 16] dequantize to: [..., G·32, rows]. */
export function mxfp4DequantizedShape(blocks: TensorRef): number[] {
  const shape = blocks.shape;
  return [...shape.slice(0, -3), shape[shape.length - 2]! * mxfp4GroupSize, shape[shape.length - 3]!];
}

/** MODEL_LOAD_FAILED naming the blocks unless they dequantize to `expected`. */
export function checkMxfp4Shape(blocks: TensorRef, expected: readonly number[]): void {
  const dequantized = mxfp4DequantizedShape(blocks);
  if (dequantized.length !== expected.length || dequantized.some((d, i) => d !== expected[i]))
    throw modelLoadError(
      `dequantizes to ${shapeText(dequantized)} (blocks ${shapeText(blocks.shape)}), expected ${shapeText(expected)}`,
      where(blocks),
    );
}

/** Dequantizes MXFP4 blocks [..., rows, G, 16] and scales [..., rows, G] to float32 [..., G·32, rows]. */
export function dequantizeMxfp4(
  blocks: TensorRef,
  blockBytes: Uint8Array,
  scaleBytes: Uint8Array,
): Float32Array {
  const shape = blocks.shape;
  const rows = shape[shape.length - 3]!;
  const groups = shape[shape.length - 2]!;
  const cols = groups * mxfp4GroupSize;
  const matrices = shape.slice(0, -3).reduce((a, b) => a * b, 1);
  const out = new Float32Array(matrices * rows * cols);
  for (let m = 0; m < matrices; m++) {
    const base = m * rows * cols;
    for (let r = 0; r < rows; r++) {
      for (let g = 0; g < groups; g++) {
        const group = (m * rows + r) * groups + g;
        // E8M0: 2^(code − 127); 0xFF is NaN (the OCP MX scale encoding).
        const code = scaleBytes[group]!;
        const scale = code === 0xff ? Number.NaN : 2 ** (code - 127);
        const byteBase = group * mxfp4GroupBytes;
        for (let j = 0; j < mxfp4GroupBytes; j++) {
          const byte = blockBytes[byteBase + j]!;
          const c = g * mxfp4GroupSize + 2 * j;
          // Transposed store: element (r, c) of the decoded matrix lands at (c, r).
          out[base + c * rows + r] = e2m1Table[byte & 0x0f]! * scale;
          out[base + (c + 1) * rows + r] = e2m1Table[byte >> 4]! * scale;
        }
      }
    }
  }
  return out;
}
