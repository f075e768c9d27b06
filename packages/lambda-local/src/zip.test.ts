import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readZip, writeZip } from './zip.js';

describe('zip reader and writer', () => {
  it('round-trips arbitrary files, compressed or stored', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[a-z]{1,8}(\/[a-z]{1,8}){0,2}\.[a-z]{1,3}$/), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.array(fc.uint8Array({ maxLength: 2000 }), { minLength: 6, maxLength: 6 }),
        (paths, contents) => {
          const entries = paths.map((path, i) => ({ path, data: contents[i] as Uint8Array }));
          const read = readZip(writeZip(entries));
          expect(read.map((e) => e.path)).toEqual(paths);
          for (const [i, entry] of read.entries()) expect(entry.data).toEqual(entries[i]?.data);
        },
      ),
      { seed: 7, numRuns: 50 },
    );
  });

  it('keeps Unix file modes', () => {
    const [entry] = readZip(writeZip([{ path: 'bootstrap', data: new Uint8Array([1]), mode: 0o755 }]));
    expect(entry?.mode).toBe(0o755);
  });

  it('rejects entries that escape the directory and damaged archives', () => {
    expect(() => writeZip([{ path: '../evil', data: new Uint8Array() }])).toThrow(/escape/);
    const zip = writeZip([{ path: 'a.txt', data: new TextEncoder().encode('hello hello hello hello') }]);
    expect(() => readZip(zip.subarray(0, zip.length - 30))).toThrow();
    const corrupted = zip.slice();
    corrupted[36] = (corrupted[36] ?? 0) ^ 0xff; // inside the compressed data
    expect(() => readZip(corrupted)).toThrow();
  });
});
