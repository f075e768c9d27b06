import { open, rename, rm } from 'node:fs/promises';
import { numberToBfloat16Bits, numberToFloat16Bits } from '@switchyard/core';
import { ModelError } from '../errors.js';
import {
  type GgufScalarType,
  type GgufTensorType,
  type GgufValue,
  ggmlTensorTypes,
  ggufDefaultAlignment,
  ggufMagic,
  ggufMaxDimensions,
  ggufMaxTensorNameBytes,
  ggufValueTypeIds,
  ggufVersion,
} from './gguf-format.js';

/** One tensor to store. */
export interface GgufTensor {
  name: string;
  /**
   * Row-major shape, outermost dimension first, as PyTorch and safetensors write it ([rows, columns]
   * for a matrix). GGUF lists dimensions innermost first; the writer reverses them.
   */
  shape: readonly number[];
  type: GgufTensorType;
  /**
   * The values in row-major order, produced when the writer reaches this tensor, so a model is never
   * held in memory whole.
   */
  data: () => Float32Array;
}

export interface GgufContents {
  /** Keys in file order; `general.alignment` (uint32, a multiple of 8) sets the data alignment. */
  metadata: Readonly<Record<string, GgufValue>>;
  tensors: readonly GgufTensor[];
}

export interface GgufWriteResult {
  path: string;
  bytes: number;
  /** Where the data section starts (the tensors' offsets count from here). */
  tensorDataOffset: number;
  tensorCount: number;
}

function ggufError(message: string, location: string): ModelError {
  return new ModelError({ code: 'INVALID_INPUT', message, location });
}

const textEncoder = new TextEncoder();

/**
 * A growable little-endian byte buffer for the header. Every write reserves its bytes before touching
 * `view`/`buffer`: reserving may replace them.
 */
class ByteSink {
  private buffer = new Uint8Array(1 << 16);
  private view = new DataView(this.buffer.buffer);
  length = 0;

  private reserve(bytes: number): number {
    if (this.length + bytes > this.buffer.byteLength) {
      const grown = new Uint8Array(Math.max(this.buffer.byteLength * 2, this.length + bytes));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
      this.view = new DataView(grown.buffer);
    }
    const at = this.length;
    this.length += bytes;
    return at;
  }

  uint8(value: number): void {
    const at = this.reserve(1);
    this.view.setUint8(at, value);
  }
  int8(value: number): void {
    const at = this.reserve(1);
    this.view.setInt8(at, value);
  }
  uint16(value: number): void {
    const at = this.reserve(2);
    this.view.setUint16(at, value, true);
  }
  int16(value: number): void {
    const at = this.reserve(2);
    this.view.setInt16(at, value, true);
  }
  uint32(value: number): void {
    const at = this.reserve(4);
    this.view.setUint32(at, value, true);
  }
  int32(value: number): void {
    const at = this.reserve(4);
    this.view.setInt32(at, value, true);
  }
  float32(value: number): void {
    const at = this.reserve(4);
    this.view.setFloat32(at, value, true);
  }
  float64(value: number): void {
    const at = this.reserve(8);
    this.view.setFloat64(at, value, true);
  }
  uint64(value: bigint): void {
    const at = this.reserve(8);
    this.view.setBigUint64(at, value, true);
  }
  int64(value: bigint): void {
    const at = this.reserve(8);
    this.view.setBigInt64(at, value, true);
  }
  string(value: string): void {
    const bytes = textEncoder.encode(value);
    this.uint64(BigInt(bytes.byteLength));
    const at = this.reserve(bytes.byteLength);
    this.buffer.set(bytes, at);
  }
  zeros(count: number): void {
    const at = this.reserve(count);
    this.buffer.fill(0, at, this.length);
  }
  bytes(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

const integerRanges: Partial<Record<GgufScalarType, [number, number]>> = {
  uint8: [0, 0xff],
  int8: [-0x80, 0x7f],
  uint16: [0, 0xffff],
  int16: [-0x8000, 0x7fff],
  uint32: [0, 0xffffffff],
  int32: [-0x80000000, 0x7fffffff],
};

function checkScalar(type: GgufScalarType, value: unknown, location: string): void {
  const range = integerRanges[type];
  if (range) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < range[0] || value > range[1])
      throw ggufError(
        `${JSON.stringify(value)} is not a ${type} (an integer in ${range[0]}…${range[1]})`,
        location,
      );
    return;
  }
  switch (type) {
    case 'float32':
    case 'float64':
      if (typeof value !== 'number') throw ggufError(`${JSON.stringify(value)} is not a number`, location);
      return;
    case 'uint64':
    case 'int64': {
      const big =
        typeof value === 'bigint' ? value : Number.isSafeInteger(value) ? BigInt(value as number) : undefined;
      const [low, high] = type === 'uint64' ? [0n, 2n ** 64n - 1n] : [-(2n ** 63n), 2n ** 63n - 1n];
      if (big === undefined || big < low || big > high)
        throw ggufError(
          `${String(value)} is not a ${type} (a bigint or safe integer in ${low}…${high})`,
          location,
        );
      return;
    }
    case 'bool':
      if (typeof value !== 'boolean') throw ggufError(`${JSON.stringify(value)} is not a boolean`, location);
      return;
    case 'string':
      if (typeof value !== 'string') throw ggufError(`${JSON.stringify(value)} is not a string`, location);
      return;
  }
}

type ScalarItem = number | bigint | boolean | string;

const scalarWriters: Record<GgufScalarType, (sink: ByteSink, value: ScalarItem) => void> = {
  uint8: (sink, value) => sink.uint8(value as number),
  int8: (sink, value) => sink.int8(value as number),
  uint16: (sink, value) => sink.uint16(value as number),
  int16: (sink, value) => sink.int16(value as number),
  uint32: (sink, value) => sink.uint32(value as number),
  int32: (sink, value) => sink.int32(value as number),
  float32: (sink, value) => sink.float32(value as number),
  float64: (sink, value) => sink.float64(value as number),
  uint64: (sink, value) => sink.uint64(BigInt(value as number | bigint)),
  int64: (sink, value) => sink.int64(BigInt(value as number | bigint)),
  bool: (sink, value) => sink.uint8(value ? 1 : 0),
  string: (sink, value) => sink.string(value as string),
};

function writeValue(sink: ByteSink, value: GgufValue, location: string): void {
  if (!(value.type in ggufValueTypeIds))
    throw ggufError(
      `unknown value type ${JSON.stringify(value.type)}; one of ${Object.keys(ggufValueTypeIds).join(', ')}`,
      location,
    );
  sink.uint32(ggufValueTypeIds[value.type]);
  if (value.type !== 'array') {
    checkScalar(value.type, value.value, location);
    scalarWriters[value.type](sink, value.value);
    return;
  }
  if (!(value.itemType in ggufValueTypeIds) || (value.itemType as string) === 'array')
    throw ggufError(
      `array item type ${JSON.stringify(value.itemType)} is not a scalar GGUF type (nested arrays are not written)`,
      location,
    );
  if (!Array.isArray(value.value)) throw ggufError('array value is not an array', location);
  sink.uint32(ggufValueTypeIds[value.itemType]);
  sink.uint64(BigInt(value.value.length));
  for (const [index, item] of value.value.entries()) {
    checkScalar(value.itemType, item, `${location}[${index}]`);
    scalarWriters[value.itemType](sink, item);
  }
}

/** Where each tensor's bytes go, with the header that describes them. */
export interface GgufLayout {
  header: Uint8Array;
  alignment: number;
  /** Byte offset of each tensor inside the data section (aligned). */
  tensorOffsets: number[];
  /** Size of each tensor's data in bytes (before padding). */
  tensorBytes: number[];
  /** Size of the data section, including the padding after the last tensor. */
  dataBytes: number;
}

function alignmentOf(metadata: Readonly<Record<string, GgufValue>>): number {
  const entry = metadata['general.alignment'];
  if (entry === undefined) return ggufDefaultAlignment;
  if (entry.type !== 'uint32' || entry.value <= 0 || entry.value % 8 !== 0)
    throw ggufError(
      `must be a uint32 multiple of 8, got ${entry.type} ${JSON.stringify(entry.value)}`,
      'GGUF metadata general.alignment',
    );
  return entry.value;
}

const alignUp = (value: number, alignment: number) => Math.ceil(value / alignment) * alignment;

/** Validates the contents and encodes the header; the data section follows it. */
export function encodeGgufHeader(contents: GgufContents): GgufLayout {
  const alignment = alignmentOf(contents.metadata);
  const sink = new ByteSink();
  const keys = Object.keys(contents.metadata);
  sink.uint32(ggufMagic);
  sink.uint32(ggufVersion);
  sink.uint64(BigInt(contents.tensors.length));
  sink.uint64(BigInt(keys.length));
  for (const key of keys) {
    if (!/^[a-z0-9_]+(\.[a-z0-9_]+)*$/.test(key))
      throw ggufError(
        'a key is lower_snake_case words separated by dots (ASCII), e.g. llama.block_count',
        `GGUF metadata ${JSON.stringify(key)}`,
      );
    sink.string(key);
    writeValue(sink, contents.metadata[key]!, `GGUF metadata ${key}`);
  }
  const names = new Set<string>();
  const tensorOffsets: number[] = [];
  const tensorBytes: number[] = [];
  let offset = 0;
  for (const tensor of contents.tensors) {
    const location = `GGUF tensor ${JSON.stringify(tensor.name)}`;
    const nameBytes = textEncoder.encode(tensor.name).byteLength;
    if (nameBytes === 0 || nameBytes > ggufMaxTensorNameBytes)
      throw ggufError(`name must be 1…${ggufMaxTensorNameBytes} bytes, is ${nameBytes}`, location);
    if (names.has(tensor.name)) throw ggufError('the name appears twice', location);
    names.add(tensor.name);
    const type = ggmlTensorTypes[tensor.type];
    if (!type)
      throw ggufError(
        `type ${JSON.stringify(tensor.type)} is not one of ${Object.keys(ggmlTensorTypes).join(', ')}`,
        location,
      );
    if (
      tensor.shape.length < 1 ||
      tensor.shape.length > ggufMaxDimensions ||
      tensor.shape.some((d) => !Number.isSafeInteger(d) || d < 1)
    )
      throw ggufError(
        `shape [${tensor.shape.join(', ')}] must have 1…${ggufMaxDimensions} positive integer dimensions`,
        location,
      );
    sink.string(tensor.name);
    sink.uint32(tensor.shape.length);
    for (const dimension of [...tensor.shape].reverse()) sink.uint64(BigInt(dimension));
    sink.uint32(type.id);
    sink.uint64(BigInt(offset));
    const bytes = tensor.shape.reduce((a, b) => a * b, 1) * type.bytesPerElement;
    tensorOffsets.push(offset);
    tensorBytes.push(bytes);
    offset = alignUp(offset + bytes, alignment);
  }
  sink.zeros(alignUp(sink.length, alignment) - sink.length);
  return { header: sink.bytes(), alignment, tensorOffsets, tensorBytes, dataBytes: offset };
}

/** The tensor's bytes in its GGUF type (little-endian; float32 is rounded to nearest even for F16/BF16). */
export function encodeGgufTensorData(type: GgufTensorType, values: Float32Array): Uint8Array {
  if (type === 'F32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint16Array(values.length);
  const convert = type === 'F16' ? numberToFloat16Bits : numberToBfloat16Bits;
  for (let i = 0; i < values.length; i++) out[i] = convert(values[i]!);
  return new Uint8Array(out.buffer);
}

/**
 * Writes a GGUF (version 3) file. Tensors are produced and written one at a time; the file appears
 * under `path` only when complete (it is written to `path.partial` and renamed), so an interrupted
 * export leaves no truncated model behind. Bad contents throw ModelError INVALID_INPUT naming the key
 * or tensor before anything is written.
 */
export async function writeGgufFile(path: string, contents: GgufContents): Promise<GgufWriteResult> {
  const layout = encodeGgufHeader(contents);
  const partial = `${path}.partial`;
  const file = await open(partial, 'w');
  let done = false;
  try {
    let position = 0;
    const write = async (bytes: Uint8Array) => {
      let written = 0;
      while (written < bytes.byteLength) {
        const { bytesWritten } = await file.write(bytes, written, bytes.byteLength - written, position);
        written += bytesWritten;
        position += bytesWritten;
      }
    };
    await write(layout.header);
    const dataStart = position;
    for (const [index, tensor] of contents.tensors.entries()) {
      const values = tensor.data();
      const elements = tensor.shape.reduce((a, b) => a * b, 1);
      if (!(values instanceof Float32Array) || values.length !== elements)
        throw ggufError(
          `data has ${values instanceof Float32Array ? `${values.length} float32 values` : 'no Float32Array'}, shape [${tensor.shape.join(', ')}] needs ${elements}`,
          `GGUF tensor ${JSON.stringify(tensor.name)}`,
        );
      const bytes = encodeGgufTensorData(tensor.type, values);
      await write(bytes);
      const end =
        (contents.tensors[index + 1] ? layout.tensorOffsets[index + 1]! : layout.dataBytes) + dataStart;
      if (end > position) await write(new Uint8Array(end - position));
    }
    await file.close();
    await rename(partial, path);
    done = true;
    return {
      path,
      bytes: position,
      tensorDataOffset: dataStart,
      tensorCount: contents.tensors.length,
    };
  } finally {
    if (!done) {
      await file.close().catch(() => {});
      await rm(partial, { force: true });
    }
  }
}
