import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { crc32 } from '@switchyard/core';
import { LambdaLocalError } from './errors.js';

/** One file of a zip archive. */
export interface ZipEntry {
  /** Forward-slash path inside the archive. */
  path: string;
  data: Uint8Array;
  /** Unix mode bits when the archive recorded them (e.g. 0o755 for executables). */
  mode?: number;
}

const endOfCentralDirectory = 0x06054b50;
const centralFileHeader = 0x02014b50;
const localFileHeader = 0x04034b50;

function zipError(message: string): never {
  throw new LambdaLocalError({ code: 'INVALID_INPUT', message, location: 'function code zip' });
}

/** A path that stays inside the extraction directory (no absolute paths, no `..`). */
function safePath(path: string): string {
  const normalised = path.replace(/\\/g, '/');
  if (normalised.startsWith('/') || normalised.split('/').includes('..') || /^[A-Za-z]:/.test(normalised)) {
    zipError(`entry ${JSON.stringify(path)} would escape the code directory`);
  }
  return normalised;
}

/**
 * Reads a zip archive through its central directory (APPNOTE 6.3: end-of-central-directory record,
 * central file headers, local headers). Stored and deflated entries; no ZIP64, no encryption.
 * Directory entries are skipped. Checks each entry's CRC-32.
 */
export function readZip(archive: Uint8Array): ZipEntry[] {
  const view = new DataView(archive.buffer, archive.byteOffset, archive.byteLength);
  let eocd = -1;
  const earliest = Math.max(0, archive.byteLength - 22 - 0xffff);
  for (let offset = archive.byteLength - 22; offset >= earliest; offset--) {
    if (view.getUint32(offset, true) === endOfCentralDirectory) {
      eocd = offset;
      break;
    }
  }
  if (eocd < 0) zipError('not a zip archive (no end-of-central-directory record)');
  const entryCount = view.getUint16(eocd + 10, true);
  const directoryOffset = view.getUint32(eocd + 16, true);
  if (entryCount === 0xffff || directoryOffset === 0xffffffff) zipError('ZIP64 archives are not supported');
  const entries: ZipEntry[] = [];
  let offset = directoryOffset;
  for (let i = 0; i < entryCount; i++) {
    if (offset + 46 > archive.byteLength || view.getUint32(offset, true) !== centralFileHeader) {
      zipError(`central directory entry ${i} is damaged`);
    }
    const flags = view.getUint16(offset + 8, true);
    const method = view.getUint16(offset + 10, true);
    const expectedCrc = view.getUint32(offset + 16, true);
    const compressedSize = view.getUint32(offset + 20, true);
    const size = view.getUint32(offset + 24, true);
    const nameLength = view.getUint16(offset + 28, true);
    const extraLength = view.getUint16(offset + 30, true);
    const commentLength = view.getUint16(offset + 32, true);
    const madeBy = view.getUint16(offset + 4, true) >> 8;
    const externalAttributes = view.getUint32(offset + 38, true);
    const localOffset = view.getUint32(offset + 42, true);
    const name = new TextDecoder().decode(archive.subarray(offset + 46, offset + 46 + nameLength));
    offset += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith('/')) continue;
    if (flags & 1) zipError(`entry ${name} is encrypted`);
    if (view.getUint32(localOffset, true) !== localFileHeader) zipError(`local header of ${name} is damaged`);
    const dataStart =
      localOffset + 30 + view.getUint16(localOffset + 26, true) + view.getUint16(localOffset + 28, true);
    const raw = archive.subarray(dataStart, dataStart + compressedSize);
    let data: Uint8Array;
    if (method === 0) data = raw;
    else if (method === 8) data = new Uint8Array(inflateRawSync(raw));
    else
      zipError(`entry ${name} uses compression method ${method}; only stored (0) and deflate (8) are read`);
    if (data.byteLength !== size)
      zipError(`entry ${name} is ${data.byteLength} bytes, directory says ${size}`);
    if (crc32(data) !== expectedCrc) zipError(`entry ${name} fails its CRC-32 check`);
    // Unix-made archives keep st_mode in the high 16 bits of the external attributes.
    const mode = madeBy === 3 ? (externalAttributes >>> 16) & 0o7777 : 0;
    entries.push({ path: safePath(name), data, mode: mode || undefined });
  }
  return entries;
}

/** Compressed form per data buffer: packaging reuses the same onnxruntime buffers for every function. */
const compressedCache = new WeakMap<Uint8Array, { crc: number; body: Uint8Array; deflated: boolean }>();

function compress(data: Uint8Array): { crc: number; body: Uint8Array; deflated: boolean } {
  const cached = compressedCache.get(data);
  if (cached) return cached;
  // Fast deflate for big native binaries; they barely shrink at higher levels.
  const deflated = new Uint8Array(deflateRawSync(data, { level: data.byteLength > 1_000_000 ? 1 : 6 }));
  const useDeflate = deflated.byteLength < data.byteLength;
  const result = { crc: crc32(data), body: useDeflate ? deflated : data, deflated: useDeflate };
  compressedCache.set(data, result);
  return result;
}

/** Writes a zip archive (deflate where it helps, stored otherwise), Unix modes preserved. */
export function writeZip(entries: readonly ZipEntry[]): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  const encoder = new TextEncoder();
  for (const entry of entries) {
    const name = encoder.encode(safePath(entry.path));
    const { crc, body, deflated: useDeflate } = compress(entry.data);
    const local = new Uint8Array(30 + name.byteLength);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, localFileHeader, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, useDeflate ? 8 : 0, true);
    lv.setUint16(12, 0x21, true); // 1980-01-01: reproducible archives
    lv.setUint32(14, crc, true);
    lv.setUint32(18, body.byteLength, true);
    lv.setUint32(22, entry.data.byteLength, true);
    lv.setUint16(26, name.byteLength, true);
    local.set(name, 30);
    const central = new Uint8Array(46 + name.byteLength);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, centralFileHeader, true);
    cv.setUint16(4, (3 << 8) | 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, useDeflate ? 8 : 0, true);
    cv.setUint16(14, 0x21, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, body.byteLength, true);
    cv.setUint32(24, entry.data.byteLength, true);
    cv.setUint16(28, name.byteLength, true);
    cv.setUint32(38, ((0o100000 | (entry.mode ?? 0o644)) << 16) >>> 0, true);
    cv.setUint32(42, offset, true);
    central.set(name, 46);
    locals.push(local, body);
    centrals.push(central);
    offset += local.byteLength + body.byteLength;
  }
  const directorySize = centrals.reduce((sum, c) => sum + c.byteLength, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, endOfCentralDirectory, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, directorySize, true);
  ev.setUint32(16, offset, true);
  const parts = [...locals, ...centrals, end];
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
