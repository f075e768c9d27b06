import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSafetensors, serializeSafetensors, type TensorInput, toFloat32Array } from '@switchyard/core';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from './checkpoint.js';
import { loadModel } from './model.js';
import { encodeOnnxModel, type OnnxDataType } from './onnx-proto-writer.js';
import { dequantizeFp8, dequantizeMxfp4, e2m1ToNumber } from './quantized-checkpoint.js';

const fixtures = join(import.meta.dirname, '../../../fixtures/checkpoints');

/** Every code of an 8-bit float decoded by onnxruntime's Cast (an implementation nobody here wrote). */
async function onnxruntimeDecodes(dataType: OnnxDataType, opset: number): Promise<Float32Array> {
  const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
  const model = encodeOnnxModel({
    graph: {
      name: 'decode',
      nodes: [{ opType: 'Cast', inputs: ['codes'], outputs: ['values'], attributes: { to: 1 } }],
      initializers: [{ name: 'codes', dataType, dims: [256], rawData: codes }],
      inputs: [],
      outputs: [{ name: 'values', dataType: 'float', shape: [256] }],
    },
    opsets: { '': opset },
    irVersion: 11,
  });
  const session = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
  const values = (await session.run({})).values!.data as Float32Array;
  await session.release();
  return values;
}

/** Element-wise identical, -0 ≠ +0, any NaN equal to any NaN. */
function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++)
    if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

describe('8-bit float and E2M1 decoding against independent definitions', () => {
  it.each([
    ['F8_E4M3', 'float8e4m3fn', 19],
    ['F8_E5M2', 'float8e5m2', 19],
    ['F8_E8M0', 'float8e8m0', 24],
  ] as const)('decodes all 256 %s codes exactly as onnxruntime Cast does', async (dtype, onnxType, opset) => {
    const ours = toFloat32Array(
      dtype,
      Uint8Array.from({ length: 256 }, (_, i) => i),
    );
    const theirs = await onnxruntimeDecodes(onnxType, opset);
    expect(sameBits(ours, theirs)).toBe(true);
  });

  it('decodes the 16 E2M1 codes as the OCP MX table: ±{0, 0.5, 1, 1.5, 2, 3, 4, 6}', () => {
    const table = [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -0.5, -1, -1.5, -2, -3, -4, -6];
    expect(
      sameBits(
        Array.from({ length: 16 }, (_, code) => e2m1ToNumber(code)),
        table,
      ),
    ).toBe(true);
  });

  it('dequantizes MXFP4 low nibble first, scales by 2^(e − 127), and swaps the last two axes', () => {
    // One matrix of 2 rows × 32 columns: row 0 codes 0..15 twice (scale 2^0), row 1 all 6.0 at 2^-3.
    const blocks = new Uint8Array(2 * 16);
    for (let j = 0; j < 16; j++) blocks[j] = (((2 * j + 1) % 16) << 4) | ((2 * j) % 16);
    blocks.fill(0x77, 16);
    const scales = Uint8Array.of(127, 124);
    const out = dequantizeMxfp4(
      { name: 'w_blocks', dtype: 'U8', shape: [1, 2, 1, 16], source: 'test' },
      blocks,
      scales,
    );
    expect(out).toHaveLength(64);
    for (let c = 0; c < 32; c++) {
      expect(Object.is(out[c * 2]!, e2m1ToNumber(c % 16))).toBe(true); // (row 0, column c) stored at (c, 0)
      expect(out[c * 2 + 1]).toBe(6 / 8);
    }
  });

  it('dequantizes FP8 with 128×128 block scales over ragged edge blocks', () => {
    const rows = 200;
    const cols = 300;
    const codes = Uint8Array.from({ length: rows * cols }, (_, i) => (i * 7) % 256);
    const scales = Float32Array.of(1, 2, 4, 8, 16, 32); // [2, 3]
    const out = dequantizeFp8(
      { name: 'w', dtype: 'F8_E5M2', shape: [rows, cols], source: 'test' },
      codes,
      { name: 'w_scale_inv', dtype: 'F32', shape: [2, 3], source: 'test' },
      new Uint8Array(scales.buffer),
      [128, 128],
    );
    const plain = toFloat32Array('F8_E5M2', codes);
    for (const [r, c, scale] of [
      [0, 0, 1],
      [127, 255, 2],
      [127, 256, 4],
      [128, 0, 8],
      [199, 200, 16],
      [199, 299, 32],
    ] as const)
      expect(Object.is(out[r * cols + c], Math.fround(plain[r * cols + c]! * scale))).toBe(true);
  });
});

describe('quantized checkpoint fixtures (scripts/make-quantized-fixtures.ts)', () => {
  it.each([
    ['tiny-deepseek-v3-fp8', 'tiny-deepseek-v3-fp8-dequantized'],
    ['tiny-gpt-oss-mxfp4', 'tiny-gpt-oss-mxfp4-dequantized'],
  ])('%s loads to exactly its dequantized float32 twin', async (quantizedName, twinName) => {
    const quantized = await loadCheckpoint(join(fixtures, quantizedName));
    const twin = await loadCheckpoint(join(fixtures, twinName));
    expect(quantized.parameterCount()).toBe(twin.parameterCount());
    let compared = 0;
    for (const entry of twin.files[0]!.entries.values()) {
      const values = quantized.float32(entry.name, entry.shape);
      expect(sameBits(values, twin.float32(entry.name, entry.shape)), entry.name).toBe(true);
      compared++;
    }
    expect(compared).toBe(twin.files[0]!.entries.size);
    const tokens = Array.from({ length: 24 }, (_, i) => (i * 37) % 256);
    const logits = [];
    for (const dir of [quantizedName, twinName]) {
      const model = await loadModel(join(fixtures, dir));
      logits.push(
        (await model.forward([{ sequence: model.createSequence(), tokens }], { logits: 'all' })).logits[0]!,
      );
      await model.close();
    }
    expect(sameBits(logits[0]!, logits[1]!)).toBe(true);
  });

  it('the FP8 fixture holds FP8 codes with block scales and the MXFP4 fixture blocks and scales', async () => {
    const fp8 = parseSafetensors(await readFile(join(fixtures, 'tiny-deepseek-v3-fp8/model.safetensors')));
    const dtypes = new Set(fp8.names().map((name) => fp8.get(name).dtype));
    expect([...dtypes].sort()).toEqual(['F32', 'F8_E4M3', 'F8_E5M2']);
    expect(fp8.get('model.layers.1.mlp.experts.0.down_proj.weight_scale_inv').shape).toEqual([2, 2]);
    const mxfp4 = parseSafetensors(await readFile(join(fixtures, 'tiny-gpt-oss-mxfp4/model.safetensors')));
    expect(mxfp4.get('model.layers.0.mlp.experts.gate_up_proj_blocks').shape).toEqual([8, 96, 2, 16]);
    expect(mxfp4.get('model.layers.0.mlp.experts.gate_up_proj_scales').shape).toEqual([8, 96, 2]);
  });
});

describe('damaged quantized checkpoints', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'switchyard-quantized-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  async function variant(
    source: string,
    name: string,
    edit: (tensors: Record<string, TensorInput>) => void,
  ): Promise<string> {
    const dir = join(work, name);
    await mkdir(dir);
    const file = parseSafetensors(await readFile(join(fixtures, source, 'model.safetensors')));
    const tensors: Record<string, TensorInput> = {};
    for (const tensorName of file.names()) {
      const tensor = file.get(tensorName);
      tensors[tensorName] = { dtype: tensor.dtype, shape: tensor.shape, data: Uint8Array.from(tensor.data) };
    }
    edit(tensors);
    await writeFile(join(dir, 'model.safetensors'), serializeSafetensors(tensors));
    await copyFile(join(fixtures, source, 'config.json'), join(dir, 'config.json'));
    return dir;
  }

  async function loadError(dir: string): Promise<Error> {
    // Eager experts: a shape only the architecture knows is checked when the expert graph is built.
    return loadModel(dir, { eagerExperts: true }).then(
      (model) => {
        void model.close();
        throw new Error('expected the load to fail');
      },
      (error: Error) => error,
    );
  }

  const expertWeight = 'model.layers.1.mlp.experts.0.down_proj.weight';

  it('names a block-scale tensor of the wrong shape', async () => {
    const dir = await variant('tiny-deepseek-v3-fp8', 'scale-shape', (tensors) => {
      tensors[`${expertWeight}_scale_inv`] = { dtype: 'F32', shape: [1, 2], data: new Uint8Array(8) };
    });
    const error = await loadError(dir);
    expect(error.message).toContain(`tensor ${expertWeight}_scale_inv`);
    expect(error.message).toMatch(/has shape \[1, 2\], expected \[2, 2\]/);
  });

  it('names an FP8 weight without its block scales', async () => {
    const dir = await variant('tiny-deepseek-v3-fp8', 'scale-missing', (tensors) => {
      delete tensors[`${expertWeight}_scale_inv`];
    });
    const error = await loadError(dir);
    expect(error.message).toMatch(
      new RegExp(`no block-scale tensor ${expertWeight}_scale_inv.*tensor ${expertWeight}\\)`),
    );
  });

  it('names a weight stored in a quantized dtype it cannot dequantize', async () => {
    const e8m0 = await variant('tiny-deepseek-v3-fp8', 'e8m0-weight', (tensors) => {
      tensors[expertWeight] = { ...tensors[expertWeight]!, dtype: 'F8_E8M0' };
    });
    const e8m0Error = await loadError(e8m0);
    expect(e8m0Error.message).toMatch(/has dtype F8_E8M0, which only block scales \(_scale_inv\) use/);
    expect(e8m0Error.message).toContain(`tensor ${expertWeight}`);
    const int8 = await variant('tiny-deepseek-v3-fp8', 'i8-weight', (tensors) => {
      tensors[expertWeight] = { ...tensors[expertWeight]!, dtype: 'I8' };
    });
    const int8Error = await loadError(int8);
    expect(int8Error.message).toMatch(/has dtype I8; weights must be F32, BF16, F16, F8_E4M3, F8_E5M2/);
    expect(int8Error.message).toContain(`tensor ${expertWeight}`);
  });

  it('names a tensor whose dtype no reader knows (a 4-bit float dtype in the header)', async () => {
    const dir = await variant('tiny-deepseek-v3-fp8', 'f4-weight', () => {});
    const path = join(dir, 'model.safetensors');
    const bytes = new Uint8Array(await readFile(path));
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
    const damaged = header.replace(
      `"${expertWeight}":{"dtype":"F8_E4M3"`,
      `"${expertWeight}":{"dtype":"F4_E2M1"`,
    );
    expect(damaged).not.toBe(header);
    bytes.set(new TextEncoder().encode(damaged), 8);
    await writeFile(path, bytes);
    const error = await loadError(dir);
    expect(error.message).toMatch(/unknown dtype "F4_E2M1"/);
    expect(error.message).toContain(`tensor ${expertWeight}`);
  });

  it('names MXFP4 scales of the wrong shape and blocks that do not give the weight shape', async () => {
    const fused = 'model.layers.0.mlp.experts.gate_up_proj';
    const badScales = await variant('tiny-gpt-oss-mxfp4', 'mxfp4-scales', (tensors) => {
      tensors[`${fused}_scales`] = { dtype: 'U8', shape: [8, 96, 1], data: new Uint8Array(8 * 96) };
    });
    const scalesError = await loadError(badScales);
    expect(scalesError.message).toContain(`tensor ${fused}_scales`);
    expect(scalesError.message).toMatch(/expected \[8, 96, 2\]/);
    const badBlocks = await variant('tiny-gpt-oss-mxfp4', 'mxfp4-blocks', (tensors) => {
      tensors[`${fused}_blocks`] = { dtype: 'U8', shape: [8, 96, 1, 16], data: new Uint8Array(8 * 96 * 16) };
      tensors[`${fused}_scales`] = { dtype: 'U8', shape: [8, 96, 1], data: new Uint8Array(8 * 96) };
    });
    const blocksError = await loadError(badBlocks);
    expect(blocksError.message).toContain(`tensor ${fused}_blocks`);
    expect(blocksError.message).toMatch(/dequantizes to \[8, 32, 96\].*expected \[8, 64, 96\]/);
  });
});
