/**
 * Writes the quantized checkpoint fixtures and their dequantized float32 twins:
 *
 *   fixtures/checkpoints/tiny-deepseek-v3-fp8              every `*_proj.weight` as FP8 with block scales
 *   fixtures/checkpoints/tiny-deepseek-v3-fp8-dequantized  the same values as F32
 *   fixtures/checkpoints/tiny-gpt-oss-mxfp4                the fused gate_up_proj experts as MXFP4
 *   fixtures/checkpoints/tiny-gpt-oss-mxfp4-dequantized    the same values as F32
 *
 *   node --conditions=@switchyard/source --import tsx scripts/make-quantized-fixtures.ts   (in packages/model)
 *
 * The encoders here work from each format's definition, independently of the loader's decoders: every
 * representable value is enumerated from sign/exponent/mantissa fields into a sorted grid, and a weight is
 * rounded to the nearest grid value (ties to the even code). The twin holds `Math.fround(grid value ×
 * scale)`, so a loader that decodes the quantized file correctly reproduces the twin bit for bit
 * (quantized-checkpoint.test.ts). Deterministic: the same inputs give the same bytes.
 *
 * DeepSeek-V3 (FP8): routed experts, dense MLP and attention projections in E4M3, the shared expert in
 * E5M2 so both formats load in one fixture; the scale of a block is max|w| / (largest finite value),
 * stored as F32 `<weight>_scale_inv` (DeepSeek's name; the loader multiplies by it). The tiny model's
 * matrices are at most 96 wide, so the fixture uses 32×32 blocks (config.json's
 * `quantization_config.weight_block_size`) to have several blocks per matrix, ragged ones included;
 * DeepSeek-V3 itself uses 128×128, the loader's default.
 *
 * gpt-oss (MXFP4): `gate_up_proj` [E, H, 2I] is stored as `_blocks` [E, 2I, H/32, 16] + `_scales`
 * [E, 2I, H/32] (transformers' layout); the shared exponent of a group of 32 is ⌊log2 max|w|⌋ − 2 (the OCP
 * MX rule, E2M1's largest exponent being 2) and codes saturate at ±6. `down_proj` stays F32: its input
 * dimension (intermediate 48) is not a multiple of the 32-value group.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseSafetensors, serializeSafetensors, type TensorInput } from '@switchyard/core';

const fixtures = resolve(import.meta.dirname, '../../../fixtures/checkpoints');

/** A sorted grid of a minifloat's non-negative finite values with their codes. */
interface Grid {
  values: number[];
  codes: number[];
  max: number;
}

/**
 * Enumerates the non-negative finite values of a sign/exponent/mantissa format: exponent field 0 is
 * subnormal, the rest normal with `bias`; `isSpecial` drops the codes that are NaN or infinite.
 */
function minifloatGrid(
  exponentBits: number,
  mantissaBits: number,
  bias: number,
  isSpecial: (code: number) => boolean,
): Grid {
  const entries: Array<[number, number]> = [];
  for (let exponent = 0; exponent < 2 ** exponentBits; exponent++)
    for (let mantissa = 0; mantissa < 2 ** mantissaBits; mantissa++) {
      const code = (exponent << mantissaBits) | mantissa;
      if (isSpecial(code)) continue;
      const fraction = mantissa / 2 ** mantissaBits;
      const value = exponent === 0 ? fraction * 2 ** (1 - bias) : (1 + fraction) * 2 ** (exponent - bias);
      entries.push([value, code]);
    }
  entries.sort((a, b) => a[0] - b[0]);
  return {
    values: entries.map((e) => e[0]),
    codes: entries.map((e) => e[1]),
    max: entries[entries.length - 1]![0],
  };
}

// E4M3 (FN): exponent 15 is normal, only S.1111.111 is NaN. E5M2: exponent 31 is infinity/NaN.
const e4m3 = minifloatGrid(4, 3, 7, (code) => code === 0x7f);
const e5m2 = minifloatGrid(5, 2, 15, (code) => code >> 2 === 0x1f);
const e2m1 = minifloatGrid(2, 1, 1, () => false);
const signBit = { e4m3: 0x80, e5m2: 0x80, e2m1: 0x8 } as const;

/** The code and value of the grid point nearest |x| (saturating at the largest), ties to the even code. */
function nearest(grid: Grid, x: number): { code: number; value: number } {
  const magnitude = Math.min(Math.abs(x), grid.max);
  let low = 0;
  let high = grid.values.length - 1;
  while (high - low > 1) {
    const middle = (low + high) >> 1;
    if (grid.values[middle]! <= magnitude) low = middle;
    else high = middle;
  }
  const below = magnitude - grid.values[low]!;
  const above = grid.values[high]! - magnitude;
  const pick = below < above ? low : above < below ? high : grid.codes[low]! % 2 === 0 ? low : high;
  return { code: grid.codes[pick]!, value: grid.values[pick]! };
}

function readTensors(dir: string): Record<string, TensorInput> {
  const file = parseSafetensors(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))));
  const tensors: Record<string, TensorInput> = {};
  for (const name of file.names()) {
    const tensor = file.get(name);
    if (tensor.dtype !== 'F32') throw new Error(`${dir}: tensor ${name} is ${tensor.dtype}, expected F32`);
    tensors[name] = { dtype: tensor.dtype, shape: tensor.shape, data: Uint8Array.from(tensor.data) };
  }
  return tensors;
}

function floats(tensor: TensorInput): Float32Array {
  const data = tensor.data as Uint8Array;
  return new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

function f32Tensor(shape: number[], values: Float32Array): TensorInput {
  return { dtype: 'F32', shape, data: new Uint8Array(values.buffer) };
}

function writeCheckpoint(
  name: string,
  config: Record<string, unknown>,
  tensors: Record<string, TensorInput>,
): void {
  const dir = join(fixtures, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  writeFileSync(join(dir, 'model.safetensors'), serializeSafetensors(tensors));
  console.log(`wrote ${dir}`);
}

/** FP8 with [blockRows, blockCols] scales: codes, F32 scales and the dequantized twin of one weight. */
function quantizeFp8(
  weight: Float32Array,
  rows: number,
  cols: number,
  format: 'e4m3' | 'e5m2',
  block: readonly [number, number],
): { codes: Uint8Array; scales: Float32Array; twin: Float32Array } {
  const grid = format === 'e4m3' ? e4m3 : e5m2;
  const scaleRows = Math.ceil(rows / block[0]);
  const scaleCols = Math.ceil(cols / block[1]);
  const scales = new Float32Array(scaleRows * scaleCols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const index = Math.floor(r / block[0]) * scaleCols + Math.floor(c / block[1]);
      scales[index] = Math.max(scales[index]!, Math.abs(weight[r * cols + c]!));
    }
  for (let i = 0; i < scales.length; i++) scales[i] = scales[i]! > 0 ? scales[i]! / grid.max : 1;
  const codes = new Uint8Array(rows * cols);
  const twin = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const scale = scales[Math.floor(r / block[0]) * scaleCols + Math.floor(c / block[1])]!;
      const { code, value } = nearest(grid, weight[i]! / scale);
      const negative = weight[i]! < 0;
      codes[i] = negative ? code | signBit[format] : code;
      twin[i] = Math.fround((negative ? -value : value) * scale);
    }
  return { codes, scales, twin };
}

function makeFp8Fixture(): void {
  const source = join(fixtures, 'tiny-deepseek-v3');
  const config = JSON.parse(readFileSync(join(source, 'config.json'), 'utf8')) as Record<string, unknown>;
  const block: [number, number] = [32, 32];
  const tensors = readTensors(source);
  const quantized: Record<string, TensorInput> = {};
  const twin: Record<string, TensorInput> = {};
  for (const [name, tensor] of Object.entries(tensors)) {
    if (!name.endsWith('_proj.weight') || tensor.shape.length !== 2) {
      quantized[name] = tensor;
      twin[name] = tensor;
      continue;
    }
    const [rows, cols] = tensor.shape as [number, number];
    const format = name.includes('.shared_experts.') ? 'e5m2' : 'e4m3';
    const { codes, scales, twin: values } = quantizeFp8(floats(tensor), rows, cols, format, block);
    quantized[name] = { dtype: format === 'e4m3' ? 'F8_E4M3' : 'F8_E5M2', shape: [rows, cols], data: codes };
    quantized[`${name}_scale_inv`] = f32Tensor(
      [Math.ceil(rows / block[0]), Math.ceil(cols / block[1])],
      scales,
    );
    twin[name] = f32Tensor([rows, cols], values);
  }
  writeCheckpoint(
    'tiny-deepseek-v3-fp8',
    {
      ...config,
      quantization_config: {
        quant_method: 'fp8',
        fmt: 'e4m3',
        activation_scheme: 'dynamic',
        weight_block_size: block,
      },
    },
    quantized,
  );
  writeCheckpoint('tiny-deepseek-v3-fp8-dequantized', config, twin);
}

/** MXFP4 of a [matrices, rows, cols] tensor (cols a multiple of 32): blocks, scales and the twin [matrices, rows, cols]. */
function quantizeMxfp4(
  weight: Float32Array,
  matrices: number,
  rows: number,
  cols: number,
): { blocks: Uint8Array; scales: Uint8Array; twin: Float32Array } {
  const groups = cols / 32;
  const blocks = new Uint8Array(matrices * rows * groups * 16);
  const scales = new Uint8Array(matrices * rows * groups);
  const twin = new Float32Array(matrices * rows * cols);
  for (let g = 0; g < matrices * rows * groups; g++) {
    const base = g * 32; // the group's first value in [matrices, rows, cols] order
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(weight[base + j]!));
    // OCP MX: shared exponent ⌊log2 amax⌋ − emax(E2M1) = ⌊log2 amax⌋ − 2; an all-zero group gets 2^−127.
    const exponent = amax > 0 ? Math.max(-127, Math.min(127, Math.floor(Math.log2(amax)) - 2)) : -127;
    scales[g] = exponent + 127;
    for (let j = 0; j < 32; j++) {
      const x = weight[base + j]!;
      const { code, value } = nearest(e2m1, x / 2 ** exponent);
      const full = x < 0 ? code | signBit.e2m1 : code;
      blocks[g * 16 + (j >> 1)]! |= j % 2 === 0 ? full : full << 4;
      twin[base + j] = Math.fround((x < 0 ? -value : value) * 2 ** exponent);
    }
  }
  return { blocks, scales, twin };
}

/** Swaps the last two axes of [matrices, a, b]. */
function swapLastAxes(values: Float32Array, matrices: number, a: number, b: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let m = 0; m < matrices; m++)
    for (let i = 0; i < a; i++)
      for (let j = 0; j < b; j++) out[(m * b + j) * a + i] = values[(m * a + i) * b + j]!;
  return out;
}

function makeMxfp4Fixture(): void {
  const source = join(fixtures, 'tiny-gpt-oss');
  const config = JSON.parse(readFileSync(join(source, 'config.json'), 'utf8')) as Record<string, unknown>;
  const tensors = readTensors(source);
  const quantized: Record<string, TensorInput> = {};
  const twin: Record<string, TensorInput> = {};
  for (const [name, tensor] of Object.entries(tensors)) {
    if (!name.endsWith('.mlp.experts.gate_up_proj')) {
      quantized[name] = tensor;
      twin[name] = tensor;
      continue;
    }
    const [experts, hidden, out] = tensor.shape as [number, number, number];
    // [E, H, 2I] → [E, 2I, H]: rows are output channels, groups run along the input (H).
    const rowsFirst = swapLastAxes(floats(tensor), experts, hidden, out);
    const { blocks, scales, twin: values } = quantizeMxfp4(rowsFirst, experts, out, hidden);
    quantized[`${name}_blocks`] = { dtype: 'U8', shape: [experts, out, hidden / 32, 16], data: blocks };
    quantized[`${name}_scales`] = { dtype: 'U8', shape: [experts, out, hidden / 32], data: scales };
    twin[name] = f32Tensor([experts, hidden, out], swapLastAxes(values, experts, out, hidden));
  }
  writeCheckpoint(
    'tiny-gpt-oss-mxfp4',
    {
      ...config,
      quantization_config: {
        quant_method: 'mxfp4',
        modules_to_not_convert: [
          'model.layers.*.self_attn',
          'model.layers.*.mlp.router',
          'model.embed_tokens',
          'lm_head',
        ],
      },
    },
    quantized,
  );
  writeCheckpoint('tiny-gpt-oss-mxfp4-dequantized', config, twin);
}

makeFp8Fixture();
makeMxfp4Fixture();
