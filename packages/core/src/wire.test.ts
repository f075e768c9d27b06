import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { float16BitsToNumber, numberToFloat16Bits } from './dtype.js';
import { SwitchyardError } from './errors.js';
import {
  crc32,
  crc32Table,
  decodeExpertMessage,
  draftExpertMessage,
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

  it('keeps the v1 bytes of messages encoded before the in-place writer (golden digests)', () => {
    // sha256 prefixes of messages encoded by the original (allocating) encoder.
    const golden: Record<string, string> = {
      'f32/1': '08f8a65a45b90d11',
      'f32/3': '5fb8cade7b51e2e8',
      'f32/2': '4069e9ff3c777614',
      'f16/1': '7f2eb88757deb460',
      'f16/3': '53e57ec255b0c4d5',
      'f16/2': '15374968fb71a6a7',
      'bf16/1': '5a83920a21b0bad2',
      'bf16/3': 'db2217fe1308cf83',
      'bf16/2': '1bc7d3271fae06ce',
    };
    for (const dtype of ['f32', 'f16', 'bf16'] as const) {
      for (const expertIds of [[3], [1, 5, 7], [0, 2]]) {
        const tokenCounts = expertIds.map((_, i) => i + 2);
        const tokens = tokenCounts.reduce((a, b) => a + b, 0);
        const bytes = encodeExpertMessage({
          kind: 'response',
          dtype,
          layer: 9,
          sequence: 4242,
          hiddenSize: 6,
          expertIds,
          tokenCounts,
          activations: Float32Array.from({ length: tokens * 6 }, (_, i) => Math.sin(i * 1.7) * 100),
        });
        const digest = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
        expect(digest).toBe(golden[`${dtype}/${expertIds.length}`]);
      }
    }
  });

  it('writes the same bytes in place into a reused buffer holding stale bytes (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('f32' as const, 'f16' as const, 'bf16' as const),
        fc.array(fc.nat(6), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom('request' as const, 'response' as const),
        (dtype, tokenCounts, hiddenSize, kind) => {
          const tokens = tokenCounts.reduce((a, b) => a + b, 0);
          const original = message({
            kind,
            dtype,
            tokenCounts,
            expertIds: tokenCounts.map((_, i) => 2 * i + 1),
            hiddenSize,
            activations: Float32Array.from({ length: tokens * hiddenSize }, (_, i) => Math.cos(i) * 3),
          });
          const expected = encodeExpertMessage(original);
          const stale = new Uint8Array(expected.byteLength + 8).fill(0xa5);
          const target = stale.subarray(4, 4 + expected.byteLength);
          expect(encodeExpertMessage(original, { target })).toBe(target);
          expect(Buffer.from(target).equals(Buffer.from(expected))).toBe(true);
          target.fill(0x5a);
          const draft = draftExpertMessage(original, { target });
          draft.activations.set(original.activations);
          expect(Buffer.from(draft.finish()).equals(Buffer.from(expected))).toBe(true);
        },
      ),
      { seed: 11 },
    );
  });

  it('gathers f32 rows straight into the message and decodes them back as a view without copying', () => {
    const original = message();
    const draft = draftExpertMessage(original);
    expect(draft.activations.buffer).toBe(draft.bytes.buffer);
    draft.activations.set(original.activations);
    const bytes = draft.finish();
    const decoded = decodeExpertMessage(bytes, { view: true });
    expect(decoded.activations.buffer).toBe(bytes.buffer);
    expect(decoded).toEqual(original);
    expect(decodeExpertMessage(bytes).activations.buffer).not.toBe(bytes.buffer);
    expect(() => draftExpertMessage(original, { target: new Uint8Array(8) })).toThrow(/needs/);
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
