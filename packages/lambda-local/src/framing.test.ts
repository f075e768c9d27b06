import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, frameReader } from './framing.js';

describe('socket-pair framing', () => {
  it('reassembles frames however the stream is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ id: fc.nat(), payload: fc.uint8Array({ maxLength: 300 }) }), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 20 }),
        (messages, cuts) => {
          const stream = Buffer.concat(messages.flatMap((m) => encodeFrame({ id: m.id }, m.payload)));
          const received: Array<{ id: number; payload: Uint8Array }> = [];
          const read = frameReader((header, payload) =>
            received.push({ id: (header as { id: number }).id, payload: new Uint8Array(payload) }),
          );
          let offset = 0;
          for (let i = 0; offset < stream.length; i++) {
            const size = cuts[i % cuts.length] as number;
            read(stream.subarray(offset, offset + size));
            offset += size;
          }
          expect(received).toEqual(messages.map((m) => ({ id: m.id, payload: new Uint8Array(m.payload) })));
        },
      ),
      { seed: 5, numRuns: 100 },
    );
  });
});
