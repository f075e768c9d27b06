import { describe, expect, it } from 'vitest';
import { SwitchyardError } from './errors.js';
import { decodeS3Reference, encodeS3Reference, isS3Reference } from './s3-reference.js';
import { encodeExpertMessage } from './wire.js';

describe('S3 reference', () => {
  it('round-trips a request reference', () => {
    const bytes = encodeS3Reference({ bucket: 'b', inputKey: 'in/1', outputKey: 'out/1' });
    expect(isS3Reference(bytes)).toBe(true);
    expect(decodeS3Reference(bytes)).toEqual({
      kind: 'switchyard.expert-s3',
      version: 1,
      bucket: 'b',
      inputKey: 'in/1',
      outputKey: 'out/1',
    });
  });

  it('tells a wire message from a reference', () => {
    const message = encodeExpertMessage({
      kind: 'request',
      dtype: 'f32',
      layer: 0,
      sequence: 0,
      hiddenSize: 2,
      expertIds: [1],
      tokenCounts: [1],
      activations: new Float32Array([1, 2]),
    });
    expect(isS3Reference(message)).toBe(false);
  });

  it('rejects a malformed reference with WIRE_FORMAT_INVALID', () => {
    const bytes = new TextEncoder().encode('{"kind":"switchyard.expert-s3","version":1}');
    expect(() => decodeS3Reference(bytes)).toThrowError(SwitchyardError);
    expect(() => decodeS3Reference(new TextEncoder().encode('{nope'))).toThrowError(/not JSON/);
  });
});
