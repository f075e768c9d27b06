import { readFile } from 'node:fs/promises';
import { type Dtype, dtypeSizes, isDtype, toFloat32Array, toInt32Array } from './dtype.js';
import { SwitchyardError, type SwitchyardErrorCode } from './errors.js';

/** One tensor in a safetensors file; `data` is a view into the file's bytes (no copy). */
export interface TensorView {
  name: string;
  dtype: Dtype;
  shape: number[];
  data: Uint8Array;
}

export interface SafetensorsFile {
  /** Where the bytes came from, for error messages. */
  source: string;
  metadata: Record<string, string>;
  names(): string[];
  has(name: string): boolean;
  /** The tensor, or a MODEL_LOAD_FAILED error naming the file and tensor. */
  get(name: string): TensorView;
  /** The tensor decoded to float32 (copies). Checks the shape when given. */
  float32(name: string, expectedShape?: readonly number[]): Float32Array;
  /** The tensor decoded to int32 (copies). */
  int32(name: string, expectedShape?: readonly number[]): Int32Array;
}

/** Largest header we accept (the format's own reference implementation uses 100 MB). */
const maxHeaderBytes = 100_000_000;

export interface ParseSafetensorsOptions {
  /** Used in error messages (a file path). */
  source?: string;
  /** The error code to raise on malformed input. */
  errorCode?: SwitchyardErrorCode;
}

/** One tensor's entry in a safetensors header; `begin`/`end` are byte offsets into the file. */
export interface SafetensorsEntry {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Absolute byte offsets in the file (the header's data_offsets plus the data start). */
  begin: number;
  end: number;
}

/** A validated safetensors header: what `parseSafetensors` checks, without the tensor bytes. */
export interface SafetensorsHeader {
  source: string;
  metadata: Record<string, string>;
  /** Where the data section starts: 8 + the header length. */
  dataStart: number;
  entries: Map<string, SafetensorsEntry>;
}

function failer(options: ParseSafetensorsOptions) {
  const source = options.source ?? '<buffer>';
  const code = options.errorCode ?? 'MODEL_LOAD_FAILED';
  return (message: string, location?: string): never => {
    throw new SwitchyardError({ code, message, location: location ? `${source}: ${location}` : source });
  };
}

/**
 * The header length of a safetensors file from its first 8 bytes, checked against the file length
 * before anything that large is read.
 */
export function safetensorsHeaderLength(
  prefix: Uint8Array,
  fileLength: number,
  options: ParseSafetensorsOptions = {},
): number {
  const fail = failer(options);
  if (fileLength < 8 || prefix.byteLength < 8)
    fail(`file is truncated: ${fileLength} bytes, a safetensors file needs at least 8`);
  const headerLength = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(maxHeaderBytes, fileLength - 8))) {
    fail(
      `header length ${headerLength} runs past the end of the file (${fileLength} bytes) or exceeds ${maxHeaderBytes}; the file is truncated or not safetensors`,
      'header',
    );
  }
  return Number(headerLength);
}

/**
 * Parses and validates a safetensors header (every offset in range, matching dtype × shape, no
 * overlaps) from the file's first 8 + header-length bytes and the file's total length, so that a
 * reader can fetch tensors one at a time instead of holding the whole file.
 */
export function parseSafetensorsHeader(
  head: Uint8Array,
  fileLength: number,
  options: ParseSafetensorsOptions = {},
): SafetensorsHeader {
  const source = options.source ?? '<buffer>';
  const fail = failer(options);
  const headerEnd = 8 + safetensorsHeaderLength(head, fileLength, options);
  if (head.byteLength < headerEnd) fail(`header needs ${headerEnd} bytes, got ${head.byteLength}`, 'header');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(8, headerEnd)));
  } catch (error) {
    fail(`header is not valid UTF-8 JSON: ${(error as Error).message}`, 'header');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    fail('header is not a JSON object', 'header');
  }
  const dataLength = fileLength - headerEnd;
  const entries = new Map<string, SafetensorsEntry>();
  const ranges: Array<{ begin: number; end: number; name: string }> = [];
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
        fail('__metadata__ is not an object', name);
      for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof value !== 'string') fail(`__metadata__.${key} is not a string`, name);
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    if (typeof entry !== 'object' || entry === null) fail('tensor entry is not an object', `tensor ${name}`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (!isDtype(dtype)) {
      fail(
        `unknown dtype ${JSON.stringify(dtype)}; known: ${Object.keys(dtypeSizes).join(', ')}`,
        `tensor ${name}`,
      );
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`, `tensor ${name}`);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      fail(
        `data_offsets ${JSON.stringify(offsets)} is not [begin, end] with 0 <= begin <= end`,
        `tensor ${name}`,
      );
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataLength) {
      fail(
        `data_offsets [${begin}, ${end}] run past the end of the data (${dataLength} bytes); the file is truncated`,
        `tensor ${name}`,
      );
    }
    const elements = (shape as number[]).reduce((a, b) => a * b, 1);
    const expectedBytes = elements * dtypeSizes[dtype as Dtype];
    if (end - begin !== expectedBytes) {
      fail(
        `holds ${end - begin} bytes but ${dtype} ${JSON.stringify(shape)} needs ${expectedBytes}`,
        `tensor ${name}`,
      );
    }
    ranges.push({ begin, end, name });
    entries.set(name, {
      name,
      dtype: dtype as Dtype,
      shape: shape as number[],
      begin: headerEnd + begin,
      end: headerEnd + end,
    });
  }
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < ranges.length; i++) {
    const previous = ranges[i - 1]!;
    const current = ranges[i]!;
    if (current.begin < previous.end && current.end > current.begin && previous.end > previous.begin) {
      fail(`data overlaps tensor ${previous.name}`, `tensor ${current.name}`);
    }
  }
  return { source, metadata, dataStart: headerEnd, entries };
}

/**
 * Parses safetensors bytes: 8-byte little-endian header length, a JSON header, then the data.
 * Every offset is validated (in range, matching dtype × shape, no overlaps) before any view is made.
 */
export function parseSafetensors(bytes: Uint8Array, options: ParseSafetensorsOptions = {}): SafetensorsFile {
  const { source, metadata, entries } = parseSafetensorsHeader(bytes, bytes.byteLength, options);
  const fail = failer(options);
  const tensors = new Map<string, TensorView>();
  for (const { name, dtype, shape, begin, end } of entries.values())
    tensors.set(name, { name, dtype, shape, data: bytes.subarray(begin, end) });
  const get = (name: string): TensorView => {
    const tensor = tensors.get(name);
    if (!tensor) fail('tensor is missing', `tensor ${name}`);
    return tensor!;
  };
  const checkShape = (tensor: TensorView, expected?: readonly number[]): void => {
    if (
      expected &&
      (expected.length !== tensor.shape.length || expected.some((d, i) => d !== tensor.shape[i]))
    ) {
      fail(
        `has shape [${tensor.shape.join(', ')}], expected [${expected.join(', ')}]`,
        `tensor ${tensor.name}`,
      );
    }
  };
  return {
    source,
    metadata,
    names: () => [...tensors.keys()],
    has: (name) => tensors.has(name),
    get,
    float32(name, expectedShape) {
      const tensor = get(name);
      checkShape(tensor, expectedShape);
      if (tensor.dtype === 'BOOL') fail('is BOOL, expected a numeric tensor', `tensor ${name}`);
      return toFloat32Array(tensor.dtype, tensor.data);
    },
    int32(name, expectedShape) {
      const tensor = get(name);
      checkShape(tensor, expectedShape);
      try {
        return toInt32Array(tensor.dtype, tensor.data);
      } catch (error) {
        return fail((error as Error).message, `tensor ${name}`);
      }
    },
  };
}

/** Reads and parses a safetensors file. */
export async function readSafetensorsFile(
  path: string,
  options: Omit<ParseSafetensorsOptions, 'source'> = {},
): Promise<SafetensorsFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new SwitchyardError({
      code:
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'NOT_FOUND'
          : (options.errorCode ?? 'MODEL_LOAD_FAILED'),
      message: `cannot read safetensors file: ${(error as Error).message}`,
      location: path,
      cause: error,
    });
  }
  return parseSafetensors(bytes, { ...options, source: path });
}

export interface TensorInput {
  dtype: Dtype;
  shape: readonly number[];
  data: ArrayBufferView;
}

/** Serialises tensors to safetensors bytes (header padded to 8 bytes, tensors in the given order). */
export function serializeSafetensors(
  tensors: Record<string, TensorInput>,
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, tensor] of Object.entries(tensors)) {
    const elements = tensor.shape.reduce((a, b) => a * b, 1);
    const byteLength = elements * dtypeSizes[tensor.dtype];
    if (tensor.data.byteLength !== byteLength) {
      throw new SwitchyardError({
        code: 'INVALID_INPUT',
        message: `data has ${tensor.data.byteLength} bytes but ${tensor.dtype} [${tensor.shape.join(', ')}] needs ${byteLength}`,
        location: `tensor ${name}`,
      });
    }
    header[name] = {
      dtype: tensor.dtype,
      shape: [...tensor.shape],
      data_offsets: [offset, offset + byteLength],
    };
    offset += byteLength;
  }
  let headerText = JSON.stringify(header);
  headerText += ' '.repeat((8 - ((8 + Buffer.byteLength(headerText)) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let position = 8 + headerBytes.byteLength;
  for (const tensor of Object.values(tensors)) {
    out.set(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength), position);
    position += tensor.data.byteLength;
  }
  return out;
}
