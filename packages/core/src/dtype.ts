/** Safetensors dtype names and their element sizes in bytes. */
export const dtypeSizes = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  F8_E8M0: 1,
} as const;

export type Dtype = keyof typeof dtypeSizes;

export function isDtype(value: unknown): value is Dtype {
  return typeof value === 'string' && Object.hasOwn(dtypeSizes, value);
}

const conversionView = new DataView(new ArrayBuffer(4));

/** IEEE 754 half precision bits to a float. */
export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** A float to IEEE 754 half precision bits, rounding to nearest even. */
export function numberToFloat16Bits(value: number): number {
  conversionView.setFloat32(0, value);
  const x = conversionView.getUint32(0);
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  let halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - halfExponent;
    let half = mantissa >>> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (remainder > halfway || (remainder === halfway && half & 1)) half += 1;
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  if (remainder > 0x1000 || (remainder === 0x1000 && half & 1)) half += 1;
  halfExponent = half >>> 10;
  return sign | half;
}

/** bfloat16 bits to a float (exact). */
export function bfloat16BitsToNumber(bits: number): number {
  conversionView.setUint32(0, bits << 16);
  return conversionView.getFloat32(0);
}

/** A float to bfloat16 bits, rounding to nearest even. */
export function numberToBfloat16Bits(value: number): number {
  conversionView.setFloat32(0, value);
  const x = conversionView.getUint32(0);
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return ((x >>> 16) | 0x40) & 0xffff;
  const rounded = x + 0x7fff + ((x >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

/**
 * An 8-bit float (sign, `exponentBits`, the rest mantissa) to a number by its bit fields: normal codes
 * are 2^(e - bias) · (1 + m / 2^mantissaBits), code exponent 0 is subnormal 2^(1 - bias) · m / 2^mantissaBits.
 */
function minifloatBitsToNumber(bits: number, exponentBits: number, bias: number): number {
  const mantissaBits = 7 - exponentBits;
  const sign = bits & 0x80 ? -1 : 1;
  const exponent = (bits >> mantissaBits) & ((1 << exponentBits) - 1);
  const mantissa = bits & ((1 << mantissaBits) - 1);
  if (exponent === 0) return sign * mantissa * 2 ** (1 - bias - mantissaBits);
  return sign * (1 + mantissa / 2 ** mantissaBits) * 2 ** (exponent - bias);
}

/**
 * FP8 E4M3 as DeepSeek-V3's weights use it (OCP 8-bit floating point, "E4M3FN"): bias 7, no
 * infinities, S.1111.111 is NaN, so the largest magnitude is 448.
 */
export function float8E4m3BitsToNumber(bits: number): number {
  if ((bits & 0x7f) === 0x7f) return Number.NaN;
  return minifloatBitsToNumber(bits, 4, 7);
}

/** FP8 E5M2 (OCP): IEEE-754-like with bias 15, exponent 31 holding ±infinity (mantissa 0) and NaN. */
export function float8E5m2BitsToNumber(bits: number): number {
  if ((bits & 0x7c) === 0x7c) return bits & 0x03 ? Number.NaN : bits & 0x80 ? -Infinity : Infinity;
  return minifloatBitsToNumber(bits, 5, 15);
}

/** E8M0 (OCP microscaling scale): 2^(code - 127), code 0xFF is NaN; no sign, no mantissa. */
export function float8E8m0BitsToNumber(bits: number): number {
  return bits === 0xff ? Number.NaN : 2 ** (bits - 127);
}

/** The 256 float32 values of each 8-bit float dtype, made on first use. */
const minifloatTables = new Map<string, Float32Array>();
function minifloatTable(dtype: 'F8_E4M3' | 'F8_E5M2' | 'F8_E8M0'): Float32Array {
  let table = minifloatTables.get(dtype);
  if (!table) {
    const decode =
      dtype === 'F8_E4M3'
        ? float8E4m3BitsToNumber
        : dtype === 'F8_E5M2'
          ? float8E5m2BitsToNumber
          : float8E8m0BitsToNumber;
    table = Float32Array.from({ length: 256 }, (_, bits) => decode(bits));
    minifloatTables.set(dtype, table);
  }
  return table;
}

/** Decodes little-endian element data of a floating or integer dtype into a Float32Array. */
export function toFloat32Array(dtype: Dtype, data: Uint8Array): Float32Array {
  const count = data.byteLength / dtypeSizes[dtype];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Float32Array(count);
  switch (dtype) {
    case 'F32':
      if (data.byteOffset % 4 === 0)
        return new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = float16BitsToNumber(view.getUint16(i * 2, true));
      return out;
    case 'BF16': {
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    case 'I64':
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(i * 8, true));
      return out;
    case 'U64':
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigUint64(i * 8, true));
      return out;
    case 'I32':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
      return out;
    case 'U32':
      for (let i = 0; i < count; i++) out[i] = view.getUint32(i * 4, true);
      return out;
    case 'I16':
      for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true);
      return out;
    case 'U16':
      for (let i = 0; i < count; i++) out[i] = view.getUint16(i * 2, true);
      return out;
    case 'I8':
      for (let i = 0; i < count; i++) out[i] = view.getInt8(i);
      return out;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < count; i++) out[i] = data[i]!;
      return out;
    case 'F8_E4M3':
    case 'F8_E5M2':
    case 'F8_E8M0': {
      const table = minifloatTable(dtype);
      for (let i = 0; i < count; i++) out[i] = table[data[i]!]!;
      return out;
    }
  }
}

/** Decodes integer element data (any integer dtype) into an Int32Array; values must fit in 32 bits. */
export function toInt32Array(dtype: Dtype, data: Uint8Array): Int32Array {
  const size = dtypeSizes[dtype];
  const count = data.byteLength / size;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Int32Array(count);
  const read: (offset: number) => number =
    dtype === 'I64'
      ? (o) => Number(view.getBigInt64(o, true))
      : dtype === 'U64'
        ? (o) => Number(view.getBigUint64(o, true))
        : dtype === 'I32'
          ? (o) => view.getInt32(o, true)
          : dtype === 'U32'
            ? (o) => view.getUint32(o, true)
            : dtype === 'I16'
              ? (o) => view.getInt16(o, true)
              : dtype === 'U16'
                ? (o) => view.getUint16(o, true)
                : dtype === 'I8'
                  ? (o) => view.getInt8(o)
                  : dtype === 'U8' || dtype === 'BOOL'
                    ? (o) => view.getUint8(o)
                    : () => Number.NaN;
  for (let i = 0; i < count; i++) {
    const value = read(i * size);
    if (!Number.isInteger(value) || value > 2147483647 || value < -2147483648) {
      throw new RangeError(`element ${i} of ${dtype} data is not a 32-bit integer: ${value}`);
    }
    out[i] = value;
  }
  return out;
}
