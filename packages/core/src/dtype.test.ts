import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bfloat16BitsToNumber,
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
