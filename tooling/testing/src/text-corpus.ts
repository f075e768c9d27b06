import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRandom, type RandomSource, randomInteger } from '@switchyard/core';
import { repoRoot } from './cli.js';

/** One kind of text of the mixed corpus. */
export interface CorpusSection {
  name: 'shakespeare' | 'code' | 'cjk' | 'emoji' | 'whitespace';
  text: string;
}

function pick<T>(random: RandomSource, items: readonly T[]): T {
  return items[randomInteger(random, items.length)]!;
}

function codePointIn(random: RandomSource, first: number, last: number): string {
  return String.fromCodePoint(first + randomInteger(random, last - first + 1));
}

/** Chinese, Japanese and Korean: a few plain sentences, then seeded runs of ideographs, kana and Hangul. */
function cjkText(random: RandomSource, characters: number): string {
  const sentences = [
    '今天天气很好，我们去公园散步吧。',
    '机器学习模型需要大量的数据来训练。',
    '東京は日本の首都です。桜の季節はとても美しい。',
    'カタカナとひらがなを混ぜた文章です。',
    '안녕하세요, 만나서 반갑습니다. 오늘은 날씨가 좋네요.',
    '专家混合模型在无服务器函数上运行。',
  ];
  const ranges: ReadonlyArray<readonly [number, number]> = [
    [0x4e00, 0x9fff], // CJK Unified Ideographs
    [0x3041, 0x3096], // Hiragana
    [0x30a1, 0x30fa], // Katakana
    [0xac00, 0xd7a3], // Hangul syllables
    [0x3000, 0x303f], // CJK punctuation
  ];
  let text = sentences.join('\n');
  while (text.length < characters) {
    const [first, last] = pick(random, ranges);
    const run = 1 + randomInteger(random, 12);
    for (let i = 0; i < run; i++) text += codePointIn(random, first, last);
    text += pick(random, ['', '', '，', '。', ' ', '\n']);
  }
  return text;
}

/** Emoji as people type them: single ones, skin tones, ZWJ families, flags, keycaps, variation selectors. */
function emojiText(random: RandomSource, characters: number): string {
  const fixed = [
    '👨‍👩‍👧‍👦',
    '👍🏽',
    '🏳️‍🌈',
    '🇯🇵',
    '🇺🇸',
    '1️⃣',
    '❤️',
    '🤗',
    '🧑🏿‍💻',
    '😀😃😄',
    '✊🏻✊🏼✊🏽✊🏾✊🏿',
  ];
  const words = ['ok', 'great', 'see you', 'lol', 'party', 'ship it'];
  let text = fixed.join(' ');
  while (text.length < characters) {
    const kind = randomInteger(random, 4);
    if (kind === 0) text += codePointIn(random, 0x1f600, 0x1f64f);
    else if (kind === 1)
      text += codePointIn(random, 0x1f300, 0x1f5ff) + codePointIn(random, 0x1f3fb, 0x1f3ff);
    else if (kind === 2)
      text += `${codePointIn(random, 0x1f466, 0x1f469)}\u200d${codePointIn(random, 0x1f466, 0x1f469)}`;
    else text += ` ${pick(random, words)} `;
  }
  return text;
}

/** Words between runs of spaces, tabs, newlines (\n, \r\n), no-break and ideographic spaces. */
function whitespaceText(random: RandomSource, characters: number): string {
  const spaces = [
    ' ',
    '  ',
    '    ',
    '\t',
    '\t\t',
    '\n',
    '\n\n',
    '\r\n',
    '   \n',
    ' \t \n',
    '\u00a0',
    '\u3000',
    '\n    ',
  ];
  const words = ['alpha', 'beta', 'x', '42', 'if', '{', '}', '//', 'naïve', 'end.'];
  let text = '';
  while (text.length < characters) {
    const run = 1 + randomInteger(random, 4);
    for (let i = 0; i < run; i++) text += pick(random, spaces);
    text += pick(random, words);
  }
  return `${text}\n\n\n   `;
}

/** TypeScript from this repository's core package (real code: imports, comments, generics, regexes). */
function codeText(characters: number): string {
  const dir = join(repoRoot, 'packages/core/src');
  let text = '';
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
    text += readFileSync(join(dir, file), 'utf8');
    if (text.length >= characters) break;
  }
  return text.slice(0, characters);
}

/**
 * The mixed text corpus tokenizer checks and benchmarks use: Shakespeare (the bundled tinyshakespeare),
 * code, CJK, emoji and whitespace runs, each about `characters` long (seeded: the same text every run).
 */
export function mixedCorpus(options: { characters?: number; seed?: number } = {}): CorpusSection[] {
  const characters = options.characters ?? 20_000;
  const random = createRandom(options.seed ?? 17);
  const shakespeare = readFileSync(join(repoRoot, 'fixtures/data/tinyshakespeare.txt'), 'utf8');
  return [
    { name: 'shakespeare', text: shakespeare.slice(0, characters) },
    { name: 'code', text: codeText(characters) },
    { name: 'cjk', text: cjkText(random, characters) },
    { name: 'emoji', text: emojiText(random, characters) },
    { name: 'whitespace', text: whitespaceText(random, characters) },
  ];
}

/** Splits a text into documents of about `characters` (at line ends where there are any). */
export function splitDocuments(text: string, characters: number): string[] {
  const documents: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + characters);
    const lineEnd = text.lastIndexOf('\n', end);
    if (end < text.length && lineEnd > start) end = lineEnd + 1;
    // Never cut a surrogate pair.
    if (end < text.length && /[\uD800-\uDBFF]/.test(text[end - 1]!)) end++;
    documents.push(text.slice(start, end));
    start = end;
  }
  return documents;
}
