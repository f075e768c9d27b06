import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { float16BitsToNumber, numberToFloat16Bits } from './dtype.js';
import { SwitchyardError } from './errors.js';
import {
  crc32,
  crc32Table,
  decodeExpertMessage,
  type ExpertMessage,
  encodeExpertMessage,
  wireMessageBytes,
} from './wire.js';

function message(overrides: Partial<ExpertMessage> = {}): ExpertMessage {
  return {
    kind: 'request',
    dtype: 'f32',
    layer: 3,
    sequence: 77,
    hiddenSize: 4,
    expertIds: [1, 5],
    tokenCounts: [2, 1],
    activations: Float32Array.from({ length: 12 }, (_, i) => i / 3 - 1),
    ...overrides,
  };
}

describe('expert wire format', () => {
  it('computes the standard CRC-32 check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32Table(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    const bytes = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 2654435761) >>> 24);
    expect(crc32(bytes.subarray(4000), crc32(bytes.subarray(0, 4000)))).toBe(crc32Table(bytes));
    expect(crc32Table(bytes.subarray(4000), crc32Table(bytes.subarray(0, 4000)))).toBe(crc32Table(bytes));
  });

  it('round-trips float32 messages bit-exactly', () => {
    const original = message();
    const bytes = encodeExpertMessage(original);
    expect(bytes.byteLength).toBe(wireMessageBytes(2, 3, 4, 'f32'));
    expect(decodeExpertMessage(bytes)).toEqual(original);
  });

  it('round-trips any message, with f16 rounding as the only loss (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('f32' as const, 'f16' as const, 'bf16' as const),
        fc.array(fc.nat(20), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 8 }),
        fc.nat(0xffff),
        (dtype, tokenCounts, hiddenSize, layer) => {
          const tokens = tokenCounts.reduce((a, b) => a + b, 0);
          const activations = Float32Array.from({ length: tokens * hiddenSize }, (_, i) => Math.sin(i) * 10);
          const original = message({
            dtype,
            tokenCounts,
            expertIds: tokenCounts.map((_, i) => i * 3),
            hiddenSize,
            layer,
            activations,
          });
          const decoded = decodeExpertMessage(encodeExpertMessage(original));
          expect(decoded.expertIds).toEqual(original.expertIds);
          expect(decoded.tokenCounts).toEqual(tokenCounts);
          expect(decoded.layer).toBe(layer);
          for (let i = 0; i < activations.length; i++) {
            const expected =
              dtype === 'f32'
                ? activations[i]!
                : dtype === 'f16'
                  ? float16BitsToNumber(numberToFloat16Bits(activations[i]!))
                  : undefined;
            if (expected === undefined)
              expect(Math.abs(decoded.activations[i]! - activations[i]!)).toBeLessThanOrEqual(
                Math.abs(activations[i]!) / 128,
              );
            else expect(decoded.activations[i]).toBe(expected);
          }
        },
      ),
      { seed: 7 },
    );
  });

  it('rejects corrupted, truncated and foreign messages with WIRE_FORMAT_INVALID', () => {
    const bytes = encodeExpertMessage(message());
    const corrupt = bytes.slice();
    corrupt[corrupt.length - 1]! ^= 1;
    const cases: Array<[Uint8Array, RegExp]> = [
      [corrupt, /checksum mismatch/],
      [bytes.slice(0, bytes.length - 4), /header describes/],
      [bytes.slice(0, 10), /shorter than the header/],
      [new Uint8Array(64), /bad magic/],
    ];
    for (const [input, pattern] of cases) {
      try {
        decodeExpertMessage(input);
        throw new Error('expected failure');
      } catch (error) {
        expect(SwitchyardError.isInstance(error) && error.code === 'WIRE_FORMAT_INVALID').toBe(true);
        expect((error as Error).message).toMatch(pattern);
      }
    }
    expect(() => encodeExpertMessage(message({ tokenCounts: [2, 2] }))).toThrow(/activations hold 12 values/);
  });
});
