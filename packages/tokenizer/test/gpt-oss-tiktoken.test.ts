import { mixedCorpus, splitDocuments } from '@switchyard/testing/text-corpus';
import { tokenizerFixtureDir } from '@switchyard/testing/tokenizer-fixtures';
import { Tiktoken } from 'js-tiktoken/lite';
import o200kBase from 'js-tiktoken/ranks/o200k_base';
import { beforeAll, expect, test } from 'vitest';
import { loadTokenizer, type Tokenizer } from '../src/index.js';

// gpt-oss's tokenizer is o200k_harmony: o200k_base's ranks plus special tokens. On plain text its ids
// must equal js-tiktoken's o200k_base, an implementation written from OpenAI's tiktoken, not ours.
let tokenizer: Tokenizer;
let tiktoken: Tiktoken;
beforeAll(async () => {
  tokenizer = await loadTokenizer(tokenizerFixtureDir('gptoss'));
  tiktoken = new Tiktoken(o200kBase);
});

test.each(mixedCorpus({ characters: 20_000 }).map((section) => [section.name, section.text] as const))(
  'gpt-oss ids equal js-tiktoken o200k_base on %s',
  (_name, text) => {
    const mismatches: string[] = [];
    let tokens = 0;
    for (const document of splitDocuments(text, 2_000)) {
      const ours = tokenizer.encode(document, { addSpecialTokens: false });
      const reference = tiktoken.encode(document);
      tokens += reference.length;
      if (ours.length !== reference.length || ours.some((id, i) => id !== reference[i]))
        mismatches.push(JSON.stringify(document.slice(0, 80)));
      expect(tokenizer.decode(ours)).toBe(document);
    }
    expect(mismatches).toEqual([]);
    expect(tokens).toBeGreaterThan(1_000);
  },
);
