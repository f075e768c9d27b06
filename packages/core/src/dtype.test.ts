import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bfloat16BitsToNumber,
  float8E4m3BitsToNumber,
  float8E5m2BitsToNumber,
  float8E8m0BitsToNumber,
  float16BitsToNumber,
  numberToBfloat16Bits,
  numberToFloat16Bits,
  toFloat32Array,
  toInt32Array,
} from './dtype.js';

describe('half-precision conversions', () => {
  it('maps known float16 values', () => {
    expect(float16BitsToNumber(0x3c00)).toBe(1);
    expect(float16BitsToNumber(0xc000)).toBe(-2);
    expect(float16BitsToNumber(0x7bff)).toBe(65504);
    expect(float16BitsToNumber(0x0001)).toBe(2 ** -24);
    expect(float16BitsToNumber(0x7c00)).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isNaN(float16BitsToNumber(0x7e00))).toBe(true);
    expect(numberToFloat16Bits(1)).toBe(0x3c00);
    expect(numberToFloat16Bits(65520)).toBe(0x7c00);
    expect(numberToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie rounds to even
  });

  it('round-trips every float16 bit pattern that is not NaN (property over all 65,536)', () => {
    for (let bits = 0; bits < 65536; bits++) {
      const value = float16BitsToNumber(bits);
      if (Number.isNaN(value)) continue;
      const back = numberToFloat16Bits(value);
      expect(back === bits || (value === 0 && (back & 0x7fff) === 0)).toBe(true);
    }
  });

  it('rounds to the nearest float16 (property)', () => {
    fc.assert(
      fc.property(fc.float({ min: -60000, max: 60000, noNaN: true }), (value) => {
        const rounded = float16BitsToNumber(numberToFloat16Bits(value));
        const ulp = 2 ** (Math.max(Math.floor(Math.log2(Math.abs(value) || 2 ** -24)), -14) - 10);
        expect(Math.abs(rounded - value)).toBeLessThanOrEqual(ulp / 2 + 1e-12);
      }),
    );
  });

  it('round-trips bfloat16 and rounds float32 to nearest even', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), (bits) => {
        const value = bfloat16BitsToNumber(bits);
        if (!Number.isNaN(value)) expect(numberToBfloat16Bits(value)).toBe(bits);
      }),
    );
    expect(numberToBfloat16Bits(1 + 2 ** -8)).toBe(0x3f80);
    expect(numberToBfloat16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
  });
});

// Values from the OCP 8-bit floating point and microscaling (MX) specifications' tables; every one of
// the 256 codes is also compared with onnxruntime's Cast in @switchyard/model (quantized-checkpoint.test.ts).
describe('8-bit floats', () => {
  it('decodes the E4M3 (FN) table: bias 7, no infinities, S.1111.111 NaN, max 448', () => {
    expect(float8E4m3BitsToNumber(0x38)).toBe(1);
    expect(float8E4m3BitsToNumber(0x7e)).toBe(448);
    expect(float8E4m3BitsToNumber(0xfe)).toBe(-448);
    expect(float8E4m3BitsToNumber(0x78)).toBe(256); // exponent 15 is a normal exponent here
    expect(float8E4m3BitsToNumber(0x08)).toBe(2 ** -6); // smallest normal
    expect(float8E4m3BitsToNumber(0x07)).toBe(0.875 * 2 ** -6); // largest subnormal
    expect(float8E4m3BitsToNumber(0x01)).toBe(2 ** -9); // smallest subnormal
    expect(Object.is(float8E4m3BitsToNumber(0x80), -0)).toBe(true);
    expect(Number.isNaN(float8E4m3BitsToNumber(0x7f))).toBe(true);
    expect(Number.isNaN(float8E4m3BitsToNumber(0xff))).toBe(true);
    const finite = Array.from({ length: 256 }, (_, bits) => float8E4m3BitsToNumber(bits));
    expect(finite.filter(Number.isNaN)).toHaveLength(2);
    expect(finite.some((value) => !Number.isFinite(value) && !Number.isNaN(value))).toBe(false);
  });

  it('decodes the E5M2 table: IEEE-like, bias 15, infinities and NaNs at exponent 31, max 57344', () => {
    expect(float8E5m2BitsToNumber(0x3c)).toBe(1);
    expect(float8E5m2BitsToNumber(0x7b)).toBe(57344);
    expect(float8E5m2BitsToNumber(0x04)).toBe(2 ** -14);
    expect(float8E5m2BitsToNumber(0x01)).toBe(2 ** -16);
    expect(float8E5m2BitsToNumber(0x7c)).toBe(Number.POSITIVE_INFINITY);
    expect(float8E5m2BitsToNumber(0xfc)).toBe(Number.NEGATIVE_INFINITY);
    for (const bits of [0x7d, 0x7e, 0x7f, 0xfd, 0xfe, 0xff]) expect(float8E5m2BitsToNumber(bits)).toBeNaN();
    // E5M2 is float16's top byte: the two decoders agree on every code.
    for (let bits = 0; bits < 256; bits++)
      expect(Object.is(float8E5m2BitsToNumber(bits), float16BitsToNumber(bits << 8))).toBe(true);
  });

  it('decodes E8M0 scales as 2^(code - 127), 0xFF NaN', () => {
    expect(float8E8m0BitsToNumber(127)).toBe(1);
    expect(float8E8m0BitsToNumber(0)).toBe(2 ** -127);
    expect(float8E8m0BitsToNumber(254)).toBe(2 ** 127);
    expect(float8E8m0BitsToNumber(255)).toBeNaN();
  });

  it('toFloat32Array decodes each 8-bit dtype byte by byte', () => {
    const codes = Uint8Array.of(0x38, 0x7e, 0xc0, 0x01);
    expect([...toFloat32Array('F8_E4M3', codes)]).toEqual([1, 448, -2, 2 ** -9]);
    expect([...toFloat32Array('F8_E5M2', codes)]).toEqual([0.5, Number.NaN, -2, 2 ** -16]);
    expect([...toFloat32Array('F8_E8M0', Uint8Array.of(127, 130))]).toEqual([1, 8]);
  });
});

describe('toFloat32Array / toInt32Array', () => {
  it('decodes little-endian data of each dtype, including unaligned F32', () => {
    const raw = new Uint8Array(9);
    new DataView(raw.buffer).setFloat32(1, 1.5, true);
    new DataView(raw.buffer).setFloat32(5, -2, true);
    expect([...toFloat32Array('F32', raw.subarray(1))]).toEqual([1.5, -2]);
    const i64 = new Uint8Array(16);
    new DataView(i64.buffer).setBigInt64(8, -7n, true);
    expect([...toInt32Array('I64', i64)]).toEqual([0, -7]);
    expect([...toFloat32Array('BF16', new Uint8Array([0x80, 0x3f]))]).toEqual([1]);
  });

  it('rejects integers that do not fit in 32 bits', () => {
    const big = new Uint8Array(8);
    new DataView(big.buffer).setBigInt64(0, 1n << 40n, true);
    expect(() => toInt32Array('I64', big)).toThrow(/not a 32-bit integer/);
  });
});
