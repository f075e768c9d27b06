import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEnvelope, decodeEnvelopeObject, encodeEnvelope, envelopeBytes } from './envelope.js';

describe('base64 JSON envelope', () => {
  it('round-trips any bytes and predicts its own size', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (bytes) => {
        const wrapped = encodeEnvelope(bytes);
        expect(wrapped.byteLength).toBe(envelopeBytes(bytes.byteLength));
        expect(decodeEnvelope(wrapped)).toEqual(bytes);
        expect(decodeEnvelopeObject(JSON.parse(Buffer.from(wrapped).toString('utf8')))).toEqual(bytes);
      }),
      { seed: 11, numRuns: 100 },
    );
  });

  it('accepts re-serialised JSON and rejects other shapes', () => {
    const text = JSON.stringify(
      { data: Buffer.from([1, 2, 3]).toString('base64'), encoding: 'base64' },
      null,
      1,
    );
    expect(decodeEnvelope(Buffer.from(text))).toEqual(new Uint8Array([1, 2, 3]));
    expect(() => decodeEnvelope(Buffer.from('{"data":"AAEC"}'))).toThrow(/envelope/);
  });
});
