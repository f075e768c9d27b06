import {
  type TokenizerFixtureName,
  tokenizerFixtureDir,
  tokenizerFixtureNames,
} from '@switchyard/testing/tokenizer-fixtures';
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { cleanUpTokenizationSpaces } from './clean-up-spaces.js';
import { loadTokenizer } from './load-tokenizer.js';
import type { DecodeOptions, Tokenizer } from './tokenizer.js';

/** What Hugging Face's tokenizer gives back for a text (its normaliser and clean-up are not invertible). */
const roundTripOf: Record<TokenizerFixtureName, (text: string) => string> = {
  qwen3: (text) => text.normalize('NFC'), // tokenizer.json's normalizer is NFC
  deepseek_v3: (text) => text,
  gptoss: (text) => text,
  llama3_1: cleanUpTokenizationSpaces, // tokenizer_config: clean_up_tokenization_spaces true
  llama2: legacySentencePieceRoundTrip, // tokenizer_config: legacy true
};

/**
 * Llama 2's legacy SentencePiece normaliser writes spaces as U+2581 and prepends one to every piece of
 * text, also to a piece after a special token, where the decoder does not strip it again (transformers'
 * `legacy=True` behaviour: "<s>Hi" comes back as "<s> Hi").
 */
function legacySentencePieceRoundTrip(text: string): string {
  const pieces = text.split(/(<s>|<\/s>|<unk>)/);
  return pieces
    .map((piece, i) => (i > 1 && i % 2 === 0 && piece !== '' ? ` ${piece}` : piece))
    .join('')
    .replaceAll('\u2581', ' ');
}

/** Facts of each tokenizer from its own files (tokenizer_config.json, the vocabulary). */
const expected: Record<
  TokenizerFixtureName,
  { bos?: number; eos: number[]; addBos: boolean; vocabSize: number; chat: boolean }
> = {
  qwen3: { eos: [151645], addBos: false, vocabSize: 151669, chat: true },
  deepseek_v3: { bos: 0, eos: [1], addBos: true, vocabSize: 128815, chat: true },
  gptoss: { bos: 199998, eos: [200002], addBos: false, vocabSize: 200019, chat: false },
  llama3_1: { bos: 128000, eos: [128009], addBos: true, vocabSize: 128256, chat: true },
  llama2: { bos: 1, eos: [2], addBos: true, vocabSize: 32000, chat: false },
};

/** No lone UTF-16 surrogate: no character was cut in two (String#isWellFormed, which ES2023 lacks). */
function isWellFormed(text: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

function streamed(tokenizer: Tokenizer, ids: readonly number[], options: DecodeOptions): string[] {
  const stream = tokenizer.createDecodeStream(options);
  const chunks = ids.map((id) => stream.push(id));
  chunks.push(stream.flush());
  return chunks;
}

/** Random text: any code point, whole graphemes, and the tokenizer's special tokens between them. */
function textArbitrary(tokenizer: Tokenizer): fc.Arbitrary<string> {
  const specials = Object.values(tokenizer.specialTokens).filter(
    (text): text is string => text !== undefined,
  );
  const piece = fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
    { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
    {
      weight: 2,
      arbitrary: fc.string({ unit: fc.constantFrom(' ', '\n', '\t', '\r', 'a', '.', "'"), maxLength: 8 }),
    },
    { weight: 1, arbitrary: fc.constantFrom(...(specials.length > 0 ? specials : [''])) },
  );
  return fc.array(piece, { maxLength: 6 }).map((pieces) => pieces.join(''));
}

describe.each(tokenizerFixtureNames)('%s tokenizer', (name) => {
  let tokenizer: Tokenizer;
  beforeAll(async () => {
    tokenizer = await loadTokenizer(tokenizerFixtureDir(name));
  });

  test('reads its special tokens, EOS and BOS behaviour from tokenizer_config.json', () => {
    const facts = expected[name];
    expect(tokenizer.kind).toBe('hub');
    expect(tokenizer.vocabSize).toBe(facts.vocabSize);
    expect(tokenizer.bosTokenId).toBe(facts.bos);
    expect(tokenizer.eosTokenIds).toEqual(facts.eos);
    expect(tokenizer.addBosToken).toBe(facts.addBos);
    expect(tokenizer.hasChatTemplate).toBe(facts.chat);
    const ids = tokenizer.encode('Hello world');
    expect(ids[0] === facts.bos).toBe(facts.addBos);
    expect(tokenizer.encode('Hello world', { addSpecialTokens: false })).toEqual(
      facts.addBos ? ids.slice(1) : ids,
    );
    expect(tokenizer.decode(ids, { skipSpecialTokens: true })).toBe('Hello world');
  });

  test('decode(encode(text)) gives the text back, for random Unicode', () => {
    fc.assert(
      fc.property(textArbitrary(tokenizer), (text) => {
        const ids = tokenizer.encode(text, { addSpecialTokens: false });
        expect(ids.every((id) => id >= 0 && id < tokenizer.vocabSize)).toBe(true);
        expect(tokenizer.decode(ids)).toBe(roundTripOf[name](text));
      }),
      { seed: 1, numRuns: 150 },
    );
  });

  test('streaming an encoded text gives the one-shot decode, never a broken character', () => {
    fc.assert(
      fc.property(textArbitrary(tokenizer), fc.boolean(), (text, skipSpecialTokens) => {
        const ids = tokenizer.encode(text);
        const chunks = streamed(tokenizer, ids, { skipSpecialTokens });
        expect(chunks.join('')).toBe(tokenizer.decode(ids, { skipSpecialTokens }));
        for (const chunk of chunks) expect(isWellFormed(chunk)).toBe(true);
      }),
      { seed: 2, numRuns: 150 },
    );
  });

  test('streaming random ids (pieces of characters, special tokens, ids past the vocabulary) gives the one-shot decode', () => {
    const ids = fc.array(
      fc.oneof(
        { weight: 8, arbitrary: fc.integer({ min: 0, max: tokenizer.vocabSize - 1 }) },
        { weight: 1, arbitrary: fc.integer({ min: tokenizer.vocabSize, max: tokenizer.vocabSize + 300 }) },
      ),
      { maxLength: 40 },
    );
    fc.assert(
      fc.property(ids, fc.boolean(), (tokens, skipSpecialTokens) => {
        const chunks = streamed(tokenizer, tokens, { skipSpecialTokens });
        expect(chunks.join('')).toBe(tokenizer.decode(tokens, { skipSpecialTokens }));
        for (const chunk of chunks) expect(isWellFormed(chunk)).toBe(true);
      }),
      { seed: 3, numRuns: 150 },
    );
  });

  test('a character split over several tokens arrives whole, with its leading space', () => {
    const ids = tokenizer.encode(' 🤗 naïve 你好', { addSpecialTokens: false });
    const chunks = streamed(tokenizer, ids, {});
    expect(chunks.join('')).toBe(tokenizer.decode(ids));
    expect(chunks.filter((chunk) => chunk !== '').every((chunk) => !chunk.includes('\uFFFD'))).toBe(true);
  });

  test('tokenText gives the text a token stands for', () => {
    const [id] = tokenizer.encode(' world', { addSpecialTokens: false }).slice(-1);
    expect(tokenizer.tokenText(id!)).toBe(' world');
    if (tokenizer.eosTokenIds[0] !== undefined)
      expect(tokenizer.tokenText(tokenizer.eosTokenIds[0])).toBe(tokenizer.specialTokens.eos);
  });
});
