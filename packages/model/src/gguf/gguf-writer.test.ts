import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { bfloat16BitsToNumber, createRandom, float16BitsToNumber } from '@switchyard/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../errors.js';
import type { GgufTensorType, GgufValue } from './gguf-format.js';
import { encodeGgufHeader, type GgufContents, type GgufTensor, writeGgufFile } from './gguf-writer.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-gguf-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function seededValues(count: number, seed: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: count }, () => (random() * 2 - 1) * 3);
}

const tensorOf = (name: string, shape: number[], type: GgufTensorType, values: Float32Array): GgufTensor => ({
  name,
  shape,
  type,
  data: () => values,
});

/** Reads a tensor's stored elements back as numbers, from the file bytes at the offset the reader found. */
function storedValues(file: Uint8Array, offset: number, type: GgufTensorType, count: number): number[] {
  const view = new DataView(file.buffer, file.byteOffset + offset);
  return Array.from({ length: count }, (_, i) =>
    type === 'F32'
      ? view.getFloat32(4 * i, true)
      : type === 'F16'
        ? float16BitsToNumber(view.getUint16(2 * i, true))
        : bfloat16BitsToNumber(view.getUint16(2 * i, true)),
  );
}

describe('writeGgufFile', () => {
  it('writes metadata and tensors that @huggingface/gguf reads back (types, shapes innermost first, aligned offsets, values)', async () => {
    const metadata: Record<string, GgufValue> = {
      'general.architecture': { type: 'string', value: 'llama' },
      'general.name': { type: 'string', value: 'tiny — ünïcode' },
      'test.u8': { type: 'uint8', value: 255 },
      'test.i8': { type: 'int8', value: -128 },
      'test.u16': { type: 'uint16', value: 65535 },
      'test.i16': { type: 'int16', value: -32768 },
      'test.u32': { type: 'uint32', value: 4_000_000_000 },
      'test.i32': { type: 'int32', value: -2_000_000_000 },
      'test.f32': { type: 'float32', value: 1e-6 },
      'test.f64': { type: 'float64', value: Math.PI },
      'test.u64': { type: 'uint64', value: 2n ** 63n + 5n },
      'test.i64': { type: 'int64', value: -(2n ** 40n) },
      'test.flag': { type: 'bool', value: true },
      'test.strings': { type: 'array', itemType: 'string', value: ['a', '', 'Ā'] },
      'test.ints': { type: 'array', itemType: 'int32', value: [1, -2, 3] },
      'test.empty': { type: 'array', itemType: 'string', value: [] },
    };
    const matrix = seededValues(3 * 5, 1);
    const cube = seededValues(2 * 3 * 4, 2);
    const vector = seededValues(7, 3);
    const contents: GgufContents = {
      metadata,
      tensors: [
        tensorOf('m.weight', [3, 5], 'F32', matrix),
        tensorOf('c.weight', [2, 3, 4], 'F16', cube),
        tensorOf('v.weight', [7], 'BF16', vector),
      ],
    };
    const path = join(dir, 'all-types.gguf');
    const result = await writeGgufFile(path, contents);
    const bytes = new Uint8Array(await readFile(path));
    expect(result.bytes).toBe(bytes.byteLength);

    const parsed = await gguf(path, { allowLocalFile: true, typedMetadata: true });
    expect(parsed.littleEndian).toBe(true);
    expect(Number(parsed.tensorDataOffset)).toBe(result.tensorDataOffset);
    expect(result.tensorDataOffset % 32).toBe(0);
    const md = parsed.metadata as Record<string, unknown>;
    expect(md.version).toBe(3);
    expect(md.tensor_count).toBe(3n);
    expect(md.kv_count).toBe(BigInt(Object.keys(metadata).length));
    for (const [key, value] of Object.entries(metadata)) {
      if (value.type === 'float32') expect(md[key]).toBeCloseTo(value.value, 12);
      else if (value.type === 'uint64' || value.type === 'int64')
        expect(BigInt(md[key] as bigint)).toBe(value.value);
      else expect(md[key]).toEqual(value.value);
    }
    // The typed view reports the GGUF type ids we wrote.
    expect(parsed.typedMetadata['test.u8' as 'general.name']?.type).toBe(0);
    expect(parsed.typedMetadata['test.f64' as 'general.name']?.type).toBe(12);
    expect(parsed.typedMetadata['test.ints' as 'general.name']?.subType).toBe(5);

    const byName = new Map(parsed.tensorInfos.map((t) => [t.name, t]));
    expect(byName.get('m.weight')).toMatchObject({ n_dims: 2, shape: [5n, 3n], dtype: 0 });
    expect(byName.get('c.weight')).toMatchObject({ n_dims: 3, shape: [4n, 3n, 2n], dtype: 1 });
    expect(byName.get('v.weight')).toMatchObject({ n_dims: 1, shape: [7n], dtype: 30 });
    for (const [tensor, type, values] of [
      [byName.get('m.weight')!, 'F32', matrix],
      [byName.get('c.weight')!, 'F16', cube],
      [byName.get('v.weight')!, 'BF16', vector],
    ] as const) {
      expect(Number(tensor.offset) % 32).toBe(0);
      const stored = storedValues(
        bytes,
        result.tensorDataOffset + Number(tensor.offset),
        type,
        values.length,
      );
      const tolerance = type === 'F32' ? 0 : type === 'F16' ? 2 ** -10 : 2 ** -7;
      stored.forEach((value, i) => {
        expect(Math.abs(value - values[i]!)).toBeLessThanOrEqual(Math.abs(values[i]!) * tolerance);
      });
    }
  });

  it('writes headers larger than its first buffer (a 50,257-token vocabulary and many scalars)', async () => {
    const tokens = Array.from({ length: 50_257 }, (_, i) => `token_${i}`);
    const scalars = Object.fromEntries(
      Array.from({ length: 5000 }, (_, i) => [
        `many.key_${i}`,
        { type: 'uint64', value: BigInt(i) * 3n } as GgufValue,
      ]),
    );
    const path = join(dir, 'big-header.gguf');
    const result = await writeGgufFile(path, {
      metadata: { 'tokenizer.ggml.tokens': { type: 'array', itemType: 'string', value: tokens }, ...scalars },
      tensors: [tensorOf('a', [4], 'F32', seededValues(4, 9))],
    });
    expect(result.tensorDataOffset).toBeGreaterThan(1 << 16);
    const parsed = await gguf(path, { allowLocalFile: true });
    const md = parsed.metadata as Record<string, unknown>;
    expect(md['tokenizer.ggml.tokens']).toEqual(tokens);
    expect(md['many.key_4999']).toBe(14_997n);
    expect(Number(parsed.tensorDataOffset)).toBe(result.tensorDataOffset);
  });

  it('honours general.alignment and pads every tensor to it', async () => {
    const path = join(dir, 'aligned.gguf');
    const result = await writeGgufFile(path, {
      metadata: { 'general.alignment': { type: 'uint32', value: 64 } },
      tensors: [
        tensorOf('a', [3], 'F32', seededValues(3, 4)),
        tensorOf('b', [5], 'BF16', seededValues(5, 5)),
        tensorOf('c', [1], 'F16', seededValues(1, 6)),
      ],
    });
    const parsed = await gguf(path, { allowLocalFile: true });
    expect(result.tensorDataOffset % 64).toBe(0);
    expect(parsed.tensorInfos.map((t) => Number(t.offset))).toEqual([0, 64, 128]);
    expect(result.bytes).toBe(result.tensorDataOffset + 192);
  });

  it('round-trips random metadata and tensors (property)', async () => {
    const scalar = fc.oneof(
      fc.record({ type: fc.constant('uint32' as const), value: fc.integer({ min: 0, max: 0xffffffff }) }),
      fc.record({
        type: fc.constant('int32' as const),
        value: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      }),
      fc.record({ type: fc.constant('float64' as const), value: fc.double({ noNaN: true }) }),
      fc.record({ type: fc.constant('string' as const), value: fc.string({ maxLength: 20 }) }),
      fc.record({ type: fc.constant('bool' as const), value: fc.boolean() }),
    );
    const tensor = fc.record({
      shape: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }),
      type: fc.constantFrom<GgufTensorType>('F32', 'F16', 'BF16'),
      seed: fc.integer({ min: 0, max: 1000 }),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(scalar, { maxLength: 6 }),
        fc.array(tensor, { minLength: 1, maxLength: 5 }),
        async (values, tensors) => {
          const metadata = Object.fromEntries(values.map((v, i) => [`p.key_${i}`, v as GgufValue]));
          const specs = tensors.map((t, i) => ({
            ...t,
            name: `t${i}.weight`,
            values: seededValues(
              t.shape.reduce((a, b) => a * b, 1),
              t.seed,
            ),
          }));
          const path = join(dir, `property-${run++}.gguf`);
          const result = await writeGgufFile(path, {
            metadata,
            tensors: specs.map((s) => tensorOf(s.name, s.shape, s.type, s.values)),
          });
          const bytes = new Uint8Array(await readFile(path));
          const parsed = await gguf(path, { allowLocalFile: true });
          const md = parsed.metadata as Record<string, unknown>;
          for (const [key, value] of Object.entries(metadata)) expect(md[key]).toEqual(value.value);
          specs.forEach((spec, i) => {
            const info = parsed.tensorInfos[i]!;
            expect(info.name).toBe(spec.name);
            expect(info.shape.map(Number)).toEqual([...spec.shape].reverse());
            const stored = storedValues(
              bytes,
              result.tensorDataOffset + Number(info.offset),
              spec.type,
              spec.values.length,
            );
            if (spec.type === 'F32') expect(Float32Array.from(stored)).toEqual(spec.values);
            else
              stored.forEach((value, j) => {
                expect(Math.abs(value - spec.values[j]!)).toBeLessThanOrEqual(
                  Math.abs(spec.values[j]!) * 2 ** -7,
                );
              });
          });
          await rm(path);
        },
      ),
      { numRuns: 25, seed: 21 },
    );
  });

  it.each([
    [
      'a tensor name longer than 64 bytes',
      { metadata: {}, tensors: [tensorOf('x'.repeat(65), [1], 'F32', new Float32Array(1))] },
      /1…64 bytes, is 65.*GGUF tensor "x+"/,
    ],
    [
      'a duplicate tensor name',
      {
        metadata: {},
        tensors: [
          tensorOf('a', [1], 'F32', new Float32Array(1)),
          tensorOf('a', [1], 'F32', new Float32Array(1)),
        ],
      },
      /appears twice.*GGUF tensor "a"/,
    ],
    [
      'five dimensions',
      { metadata: {}, tensors: [tensorOf('a', [1, 1, 1, 1, 1], 'F32', new Float32Array(1))] },
      /1…4 positive integer dimensions.*GGUF tensor "a"/,
    ],
    [
      'a zero dimension',
      { metadata: {}, tensors: [tensorOf('a', [2, 0], 'F32', new Float32Array(0))] },
      /shape \[2, 0\]/,
    ],
    [
      'an unknown tensor type',
      { metadata: {}, tensors: [tensorOf('a', [1], 'Q4_0' as GgufTensorType, new Float32Array(1))] },
      /type "Q4_0" is not one of F32, F16, BF16/,
    ],
    [
      'a key with capitals',
      { metadata: { 'General.Name': { type: 'string', value: 'x' } }, tensors: [] },
      /lower_snake_case.*GGUF metadata "General.Name"/,
    ],
    [
      'a uint8 out of range',
      { metadata: { 'a.b': { type: 'uint8', value: 256 } }, tensors: [] },
      /256 is not a uint8.*GGUF metadata a.b/,
    ],
    [
      'a fractional uint32',
      { metadata: { 'a.b': { type: 'uint32', value: 1.5 } }, tensors: [] },
      /1.5 is not a uint32/,
    ],
    [
      'a bad array item',
      { metadata: { 'a.b': { type: 'array', itemType: 'int8', value: [1, 200] } }, tensors: [] },
      /200 is not a int8.*GGUF metadata a.b\[1\]/,
    ],
    [
      'an alignment that is not a multiple of 8',
      { metadata: { 'general.alignment': { type: 'uint32', value: 12 } }, tensors: [] },
      /multiple of 8.*general.alignment/,
    ],
  ] as [string, GgufContents, RegExp][])(
    'rejects %s with INVALID_INPUT naming it, writing nothing',
    async (_, contents, message) => {
      const path = join(dir, 'rejected.gguf');
      const error = await writeGgufFile(path, contents).catch((e: unknown) => e);
      expect(ModelError.isInstance(error)).toBe(true);
      expect((error as ModelError).code).toBe('INVALID_INPUT');
      expect((error as Error).message).toMatch(message);
      expect(existsSync(path)).toBe(false);
      expect(() => encodeGgufHeader(contents)).toThrow(message);
    },
  );

  it('leaves no file behind when a tensor produces the wrong amount of data', async () => {
    const path = join(dir, 'short.gguf');
    const before = await readdir(dir);
    const error = await writeGgufFile(path, {
      metadata: {},
      tensors: [
        tensorOf('a', [2], 'F32', new Float32Array(2)),
        tensorOf('b', [2, 3], 'F32', new Float32Array(5)),
      ],
    }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /data has 5 float32 values, shape \[2, 3\] needs 6.*GGUF tensor "b"/,
    );
    expect(await readdir(dir)).toEqual(before);
  });
});
