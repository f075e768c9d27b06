import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SwitchyardError } from './errors.js';
import {
  parseSafetensors,
  parseSafetensorsHeader,
  readSafetensorsFile,
  safetensorsHeaderLength,
  serializeSafetensors,
} from './safetensors.js';

const fixtures = resolve(import.meta.dirname, '../../../fixtures');

function fileWithHeader(header: unknown, dataBytes: number): Uint8Array {
  const text = new TextEncoder().encode(JSON.stringify(header));
  const bytes = new Uint8Array(8 + text.length + dataBytes);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(text.length), true);
  bytes.set(text, 8);
  return bytes;
}

function expectError(action: () => unknown, pattern: RegExp): void {
  try {
    action();
  } catch (error) {
    expect(SwitchyardError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected a SwitchyardError');
}

describe('parseSafetensors', () => {
  it('reads a fixture checkpoint and decodes BF16 weights', async () => {
    const file = await readSafetensorsFile(
      `${fixtures}/checkpoints/shakespeare-mixtral-8x2/model.safetensors`,
    );
    const embed = file.get('model.embed_tokens.weight');
    expect(embed.dtype).toBe('BF16');
    expect(embed.shape).toEqual([256, 128]);
    const values = file.float32('model.embed_tokens.weight', [256, 128]);
    expect(values.length).toBe(256 * 128);
    expect(values.every(Number.isFinite)).toBe(true);
  });

  it('round-trips tensors and metadata through serializeSafetensors', () => {
    const bytes = serializeSafetensors(
      {
        a: { dtype: 'F32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
        b: { dtype: 'I64', shape: [1], data: new BigInt64Array([5n]) },
      },
      { format: 'pt' },
    );
    const file = parseSafetensors(bytes);
    expect(file.metadata).toEqual({ format: 'pt' });
    expect([...file.float32('a', [2, 2])]).toEqual([1, 2, 3, 4]);
    expect([...file.int32('b')]).toEqual([5]);
    expect(file.names()).toEqual(['a', 'b']);
  });

  it('names the file and tensor on each kind of corruption', () => {
    expectError(() => parseSafetensors(new Uint8Array(4), { source: 'x.st' }), /truncated.*x\.st/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 1000n, true);
    expectError(() => parseSafetensors(huge, { source: 'x.st' }), /header length 1000 runs past the end/);
    expectError(
      () => parseSafetensors(fileWithHeader({ t: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, 1)),
      /unknown dtype "Q4".*tensor t/,
    );
    expectError(
      () => parseSafetensors(fileWithHeader({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, 4)),
      /run past the end.*tensor t/,
    );
    expectError(
      () => parseSafetensors(fileWithHeader({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8)),
      /needs 12/,
    );
    expectError(
      () =>
        parseSafetensors(
          fileWithHeader(
            {
              a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
              b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
            },
            12,
          ),
        ),
      /overlaps tensor a/,
    );
    expectError(
      () => parseSafetensors(fileWithHeader({ t: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }, 0)),
      /shape/,
    );
    const file = parseSafetensors(
      serializeSafetensors({ a: { dtype: 'F32', shape: [2], data: new Float32Array(2) } }),
      { source: 'm.st' },
    );
    expectError(() => file.get('missing'), /tensor is missing.*m\.st: tensor missing/);
    expectError(() => file.float32('a', [3]), /has shape \[2\], expected \[3\]/);
  });

  it('never throws anything but SwitchyardError and never reads out of bounds on random mutations (fuzz)', () => {
    const base = serializeSafetensors({
      w: { dtype: 'F16', shape: [3, 2], data: new Uint16Array(6) },
      b: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) },
    });
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat(base.length - 1), value: fc.integer({ min: 0, max: 255 }) }), {
          maxLength: 8,
        }),
        fc.nat(base.length),
        (mutations, cut) => {
          const bytes = base.slice(0, Math.max(cut, 0) || base.length);
          for (const { at, value } of mutations) if (at < bytes.length) bytes[at] = value;
          try {
            const file = parseSafetensors(bytes);
            for (const name of file.names()) {
              const tensor = file.get(name);
              expect(tensor.data.byteOffset + tensor.data.byteLength).toBeLessThanOrEqual(
                bytes.byteOffset + bytes.byteLength,
              );
              if (tensor.dtype !== 'BOOL') file.float32(name);
            }
          } catch (error) {
            expect(SwitchyardError.isInstance(error)).toBe(true);
          }
        },
      ),
      { numRuns: 2000, seed: 42 },
    );
  });
});

describe('parseSafetensorsHeader', () => {
  it('validates a header against the file length without the data and gives absolute offsets', () => {
    const bytes = serializeSafetensors({
      a: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) },
      b: { dtype: 'BF16', shape: [3], data: new Uint16Array([1, 2, 3]) },
    });
    const headerEnd = 8 + safetensorsHeaderLength(bytes, bytes.length);
    const header = parseSafetensorsHeader(bytes.subarray(0, headerEnd), bytes.length, { source: 'x' });
    expect(header.dataStart).toBe(headerEnd);
    const file = parseSafetensors(bytes);
    for (const entry of header.entries.values()) {
      const view = file.get(entry.name);
      expect(view.data.byteOffset - bytes.byteOffset).toBe(entry.begin);
      expect(entry.end - entry.begin).toBe(view.data.byteLength);
    }
    expectError(
      () => parseSafetensorsHeader(bytes.subarray(0, headerEnd), bytes.length - 1, { source: 'x' }),
      /run past the end of the data.*x: tensor/,
    );
    expectError(() => safetensorsHeaderLength(bytes, headerEnd - 1, { source: 'x' }), /header length/);
  });
});
