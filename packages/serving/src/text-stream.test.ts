import { tokenizerFixtureDir } from '@switchyard/testing/tokenizer-fixtures';
import { loadTokenizer, type Tokenizer } from '@switchyard/tokenizer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byteTokenizer } from '../test/byte-tokenizer.js';
import { TextAssembler } from './text-stream.js';

const bytes = await byteTokenizer();

function run(
  text: string,
  stop: string[],
  tokenizer: Tokenizer = bytes,
): { chunks: string[]; stopped: boolean } {
  const assembler = new TextAssembler(tokenizer.createDecodeStream(), stop);
  const chunks: string[] = [];
  let stopped = false;
  for (const token of tokenizer.encode(text, { addSpecialTokens: false })) {
    const step = assembler.push(token);
    chunks.push(step.text);
    if (step.stopped) {
      stopped = true;
      break;
    }
  }
  if (!stopped) chunks.push(assembler.finish());
  return { chunks, stopped };
}

describe('TextAssembler', () => {
  it('reassembles multi-byte characters split across tokens', () => {
    const { chunks } = run('héllo 🌍 wörld', []);
    expect(chunks.join('')).toBe('héllo 🌍 wörld');
    expect(chunks.every((chunk) => !chunk.includes('\uFFFD'))).toBe(true);
  });

  it('cuts at the first stop sequence and never emits it', () => {
    const { chunks, stopped } = run('To be, or not to be', ['not', 'be,']);
    expect(stopped).toBe(true);
    expect(chunks.join('')).toBe('To ');
  });

  it('emits held text that turned out not to be a stop sequence', () => {
    const { chunks, stopped } = run('ababac', ['abad']);
    expect(stopped).toBe(false);
    expect(chunks.join('')).toBe('ababac');
  });

  it('streams the same text as decoding at once, truncated before any stop sequence', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.array(fc.string({ minLength: 1, maxLength: 3 }), { maxLength: 2 }),
        (text, stop) => {
          const { chunks } = run(text, stop);
          const positions = stop.map((s) => text.indexOf(s)).filter((i) => i >= 0);
          // A stop sequence is found at the earliest byte at which it completes; compare by that rule.
          let expected = text;
          if (positions.length > 0) {
            let best = Number.POSITIVE_INFINITY;
            let cut = text.length;
            for (const s of stop) {
              const i = text.indexOf(s);
              if (i >= 0 && i + s.length < best) {
                best = i + s.length;
                cut = i;
              } else if (i >= 0 && i + s.length === best) cut = Math.min(cut, i);
            }
            expected = text.slice(0, cut);
          }
          expect(chunks.join('')).toBe(expected);
        },
      ),
      { seed: 5, numRuns: 300 },
    );
  });

  it('over a real BPE tokenizer (Qwen3): the whole text when no stop sequence occurs, else the text up to one', async () => {
    const qwen3 = await loadTokenizer(tokenizerFixtureDir('qwen3'));
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 60 }),
        fc.array(fc.string({ minLength: 1, maxLength: 3 }), { maxLength: 2 }),
        (text, stop) => {
          const { chunks, stopped } = run(text, stop, qwen3);
          const out = chunks.join('');
          const decoded = qwen3.decode(qwen3.encode(text, { addSpecialTokens: false }));
          if (!stop.some((sequence) => decoded.includes(sequence))) {
            expect(stopped).toBe(false);
            expect(out).toBe(decoded);
            return;
          }
          expect(stopped).toBe(true);
          expect(decoded.startsWith(out)).toBe(true);
          expect(stop.some((sequence) => out.includes(sequence))).toBe(false);
          expect(stop.some((sequence) => decoded.startsWith(sequence, out.length))).toBe(true);
        },
      ),
      { seed: 6, numRuns: 100 },
    );
  });
});
