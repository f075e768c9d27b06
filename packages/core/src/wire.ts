import * as zlib from 'node:zlib';
import { numberToBfloat16Bits, numberToFloat16Bits } from './dtype.js';
import { SwitchyardError } from './errors.js';

/**
 * Expert wire format v1 (architecture/formats.md, "Expert wire format"): a fixed 32-byte little-endian
 * header, a segment table, then activations. One message carries the tokens of one or more experts of
 * one layer (packed functions hold several experts); segment i is `tokenCounts[i]` consecutive rows for
 * `expertIds[i]`.
 *
 *   0  magic 'SYX1'      4  version u16    6  dtype u8    7  kind u8 (0 request, 1 response)
 *   8  layer u16        10  segments u16  12  tokens u32  16  hidden u32
 *  20  sequence u32     24  crc32 of bytes 32.. u32      28  reserved u32
 *  32  expert ids u16 × segments, padded to 4 bytes; token counts u32 × segments; activations
 */
export const wireMagic = 0x31585953; // 'SYX1' read little-endian
export const wireVersion = 1;
export const wireHeaderBytes = 32;

export const wireDtypes = ['f32', 'f16', 'bf16'] as const;
export type WireDtype = (typeof wireDtypes)[number];
const wireDtypeBytes: Record<WireDtype, number> = { f32: 4, f16: 2, bf16: 2 };

export type WireKind = 'request' | 'response';

export interface ExpertMessage {
  kind: WireKind;
  dtype: WireDtype;
  layer: number;
  /** Caller-chosen id echoed in the response, to match answers to requests. */
  sequence: number;
  hiddenSize: number;
  expertIds: number[];
  tokenCounts: number[];
  /** tokens × hidden, row-major, as float32 (encoding converts to `dtype`). */
  activations: Float32Array;
}

let crcTable: Uint32Array | undefined;

// zlib's native CRC-32 (Node ≥ 20.15) is ~50× faster than the table loop; a 6 MB message costs
// ~1 ms instead of ~90 ms, which otherwise dominates scatter-gather overhead.
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320). */
export function crc32(bytes: Uint8Array, initial = 0): number {
  if (nativeCrc32) return nativeCrc32(bytes, initial) >>> 0;
  return crc32Table(bytes, initial);
}

/** Portable CRC-32 (table-driven); `crc32` uses it when zlib has no native one. */
export function crc32Table(bytes: Uint8Array, initial = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = ~initial >>> 0;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

function segmentTableBytes(segments: number): number {
  return Math.ceil((segments * 2) / 4) * 4 + segments * 4;
}

/** Size in bytes of an encoded message. */
export function wireMessageBytes(
  segments: number,
  tokens: number,
  hiddenSize: number,
  dtype: WireDtype,
): number {
  return wireHeaderBytes + segmentTableBytes(segments) + tokens * hiddenSize * wireDtypeBytes[dtype];
}

function invalid(message: string): never {
  throw new SwitchyardError({ code: 'WIRE_FORMAT_INVALID', message, location: 'expert wire message' });
}

/** Header fields of a message: everything but the activations. */
export type ExpertMessageHeader = Omit<ExpertMessage, 'activations'>;

export interface EncodeOptions {
  /**
   * Write into this buffer instead of allocating one (e.g. from a pool); it must hold exactly
   * `wireMessageBytes(...)` bytes, start at a 4-byte aligned offset for f32, and may hold stale
   * bytes: every byte of the message is written.
   */
  target?: Uint8Array;
}

/**
 * A message being written in place: fill `activations` (tokens × hidden float32, row-major), then
 * `finish()` converts them to the wire dtype when it is not f32 and writes the checksum. For f32,
 * `activations` is a view of the message bytes, so rows can be gathered straight into the message
 * with no intermediate copy. The bytes are identical to `encodeExpertMessage`'s.
 */
export interface ExpertMessageDraft {
  bytes: Uint8Array;
  activations: Float32Array;
  finish(): Uint8Array;
}

function checkHeader(message: ExpertMessageHeader, activationValues?: number): number {
  const segments = message.expertIds.length;
  if (segments !== message.tokenCounts.length) invalid('expertIds and tokenCounts differ in length');
  if (segments > 0xffff) invalid(`too many segments: ${segments}`);
  let tokens = 0;
  for (const count of message.tokenCounts) tokens += count;
  if (activationValues !== undefined && activationValues !== tokens * message.hiddenSize) {
    invalid(`activations hold ${activationValues} values, expected ${tokens} tokens × ${message.hiddenSize}`);
  }
  return tokens;
}

/** Starts a message in `options.target` (or a new buffer) with its header and segment table written. */
export function draftExpertMessage(
  header: ExpertMessageHeader,
  options: EncodeOptions = {},
): ExpertMessageDraft {
  const tokens = checkHeader(header);
  return draft(header, tokens, options);
}

function draft(header: ExpertMessageHeader, tokens: number, options: EncodeOptions): ExpertMessageDraft {
  const segments = header.expertIds.length;
  const size = wireMessageBytes(segments, tokens, header.hiddenSize, header.dtype);
  const bytes = options.target ?? new Uint8Array(size);
  if (bytes.byteLength !== size) invalid(`target holds ${bytes.byteLength} bytes, the message needs ${size}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(0, wireMagic, true);
  view.setUint16(4, wireVersion, true);
  view.setUint8(6, wireDtypes.indexOf(header.dtype));
  view.setUint8(7, header.kind === 'request' ? 0 : 1);
  view.setUint16(8, header.layer, true);
  view.setUint16(10, segments, true);
  view.setUint32(12, tokens, true);
  view.setUint32(16, header.hiddenSize, true);
  view.setUint32(20, header.sequence >>> 0, true);
  view.setUint32(24, 0, true);
  view.setUint32(28, 0, true);
  let offset = wireHeaderBytes;
  for (const id of header.expertIds) {
    view.setUint16(offset, id, true);
    offset += 2;
  }
  const countsOffset = wireHeaderBytes + Math.ceil((segments * 2) / 4) * 4;
  // Padding after an odd number of expert ids is zero (a pooled target may hold stale bytes).
  for (; offset < countsOffset; offset++) view.setUint8(offset, 0);
  for (const count of header.tokenCounts) {
    view.setUint32(offset, count, true);
    offset += 4;
  }
  const dataOffset = offset;
  const values = tokens * header.hiddenSize;
  const absolute = bytes.byteOffset + dataOffset;
  if (header.dtype === 'f32' && absolute % 4 !== 0) {
    invalid('target must start at a 4-byte aligned offset for f32 messages');
  }
  const activations =
    header.dtype === 'f32' ? new Float32Array(bytes.buffer, absolute, values) : new Float32Array(values);
  let finished = false;
  return {
    bytes,
    activations,
    finish() {
      if (finished) return bytes;
      finished = true;
      if (header.dtype !== 'f32') {
        const halves = new Uint16Array(values);
        const convert = header.dtype === 'f16' ? numberToFloat16Bits : numberToBfloat16Bits;
        for (let i = 0; i < values; i++) halves[i] = convert(activations[i]!);
        bytes.set(new Uint8Array(halves.buffer), dataOffset);
      }
      view.setUint32(24, crc32(bytes.subarray(wireHeaderBytes)), true);
      return bytes;
    },
  };
}

export function encodeExpertMessage(message: ExpertMessage, options: EncodeOptions = {}): Uint8Array {
  const tokens = checkHeader(message, message.activations.length);
  const target = draft(message, tokens, options);
  target.activations.set(message.activations);
  return target.finish();
}

const halfTable = new Float32Array(65536);
let halfTableReady = false;

function halfToFloatTable(): Float32Array {
  if (!halfTableReady) {
    for (let bits = 0; bits < 65536; bits++) {
      const sign = bits & 0x8000 ? -1 : 1;
      const exponent = (bits >> 10) & 0x1f;
      const fraction = bits & 0x3ff;
      halfTable[bits] =
        exponent === 0
          ? sign * fraction * 2 ** -24
          : exponent === 0x1f
            ? fraction
              ? Number.NaN
              : sign * Number.POSITIVE_INFINITY
            : sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
    }
    halfTableReady = true;
  }
  return halfTable;
}

export interface DecodeOptions {
  /** Skip the checksum (it costs one pass over the bytes). Default false. */
  skipChecksum?: boolean;
  /**
   * Return f32 activations as a view of `bytes` (no copy) when they are 4-byte aligned; the caller
   * must then keep `bytes` unchanged while it uses them. Default false (a copy).
   */
  view?: boolean;
}

export function decodeExpertMessage(bytes: Uint8Array, options: DecodeOptions = {}): ExpertMessage {
  if (bytes.byteLength < wireHeaderBytes)
    invalid(`message is ${bytes.byteLength} bytes, shorter than the header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== wireMagic) invalid('bad magic: not a Switchyard expert message');
  const version = view.getUint16(4, true);
  if (version !== wireVersion)
    invalid(`unsupported version ${version}; this build reads version ${wireVersion}`);
  const dtype = wireDtypes[view.getUint8(6)];
  if (!dtype) invalid(`unknown dtype code ${view.getUint8(6)}`);
  const kindCode = view.getUint8(7);
  if (kindCode > 1) invalid(`unknown kind ${kindCode}`);
  const segments = view.getUint16(10, true);
  const tokens = view.getUint32(12, true);
  const hiddenSize = view.getUint32(16, true);
  const expected = wireMessageBytes(segments, tokens, hiddenSize, dtype);
  if (bytes.byteLength !== expected) {
    invalid(
      `message is ${bytes.byteLength} bytes, header describes ${expected} (${segments} segments, ${tokens} tokens × ${hiddenSize} ${dtype})`,
    );
  }
  if (!options.skipChecksum) {
    const checksum = crc32(bytes.subarray(wireHeaderBytes));
    if (checksum !== view.getUint32(24, true))
      invalid('checksum mismatch: the message was corrupted in transit');
  }
  const expertIds: number[] = [];
  for (let i = 0; i < segments; i++) expertIds.push(view.getUint16(wireHeaderBytes + i * 2, true));
  const countsOffset = wireHeaderBytes + Math.ceil((segments * 2) / 4) * 4;
  const tokenCounts: number[] = [];
  for (let i = 0; i < segments; i++) tokenCounts.push(view.getUint32(countsOffset + i * 4, true));
  if (tokenCounts.reduce((a, b) => a + b, 0) !== tokens)
    invalid('segment token counts do not add up to the token count');
  const dataOffset = countsOffset + segments * 4;
  const count = tokens * hiddenSize;
  let activations: Float32Array;
  if (dtype === 'f32' && options.view && (bytes.byteOffset + dataOffset) % 4 === 0) {
    activations = new Float32Array(bytes.buffer, bytes.byteOffset + dataOffset, count);
  } else if (dtype === 'f32') {
    activations = new Float32Array(count);
    new Uint8Array(activations.buffer).set(bytes.subarray(dataOffset, dataOffset + count * 4));
  } else {
    activations = new Float32Array(count);
    const absolute = bytes.byteOffset + dataOffset;
    const halves =
      absolute % 2 === 0
        ? new Uint16Array(bytes.buffer, absolute, count)
        : new Uint16Array(bytes.slice(dataOffset, dataOffset + count * 2).buffer);
    if (dtype === 'f16') {
      const table = halfToFloatTable();
      for (let i = 0; i < count; i++) activations[i] = table[halves[i]!]!;
    } else {
      const bits = new Uint32Array(activations.buffer);
      for (let i = 0; i < count; i++) bits[i] = halves[i]! << 16;
    }
  }
  return {
    kind: kindCode === 0 ? 'request' : 'response',
    dtype,
    layer: view.getUint16(8, true),
    sequence: view.getUint32(20, true),
    hiddenSize,
    expertIds,
    tokenCounts,
    activations,
  };
}
