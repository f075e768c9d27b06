import { describe, expect, it } from 'vitest';
import { quantizedRowFormats } from './quantized-rows.js';

describe('quantizedRowFormats (bench paper --quantize)', () => {
  it('compares int8 and int4 (block 32) with float32 without --quantize or with --quantize none', () => {
    const both = [{ format: 'int8' }, { format: 'int4', blockSize: 32 }];
    expect(quantizedRowFormats(undefined)).toEqual(both);
    expect(quantizedRowFormats({ format: 'none' })).toEqual(both);
  });

  it('compares only the format --quantize names, int4 with its block size', () => {
    expect(quantizedRowFormats({ format: 'int8' })).toEqual([{ format: 'int8' }]);
    expect(quantizedRowFormats({ format: 'int4', blockSize: 128 })).toEqual([
      { format: 'int4', blockSize: 128 },
    ]);
  });
});
