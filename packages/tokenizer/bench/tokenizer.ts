/**
 * Benchmarks for @switchyard/tokenizer. Prints tables and writes bench-results/tokenizer.json at the
 * repository root (--quick: bench-results/tmp/tokenizer-quick.json).
 *   node --conditions=@switchyard/source --import tsx bench/tokenizer.ts [--quick] [--runs N]
 * 1. Per tokenizer (the five hub fixtures and the byte-level one): load time; encode, one-shot decode and
 *    streaming decode throughput in MB/s (UTF-8 bytes of text) over the mixed corpus (Shakespeare, code,
 *    CJK, emoji, whitespace runs); chat-template render and encodeChat time for a four-message turn.
 * 2. gpt-oss's encode beside js-tiktoken's o200k_base (same ids, an implementation nobody here wrote),
 *    as a ratio measured in the same run.
 * 3. The share of a chat completion's time the tokenizer takes (template + encode + streaming decode)
 *    against the whole completion on tiny random models with the real vocabularies (hidden 32): their
 *    forward passes are far cheaper than a real model's, so this share is an upper bound.
 * Every figure is the median over the runs, with the worst run beside it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from '@switchyard/core';
import { loadModel } from '@switchyard/model';
import { mixedCorpus } from '@switchyard/testing/text-corpus';
import { writeTinyHubModel } from '@switchyard/testing/tiny-hub-model';
import {
  gptOssChatTemplatePath,
  type TokenizerFixtureName,
  tokenizerFixtureDir,
  tokenizerFixtureNames,
} from '@switchyard/testing/tokenizer-fixtures';
import { Tiktoken } from 'js-tiktoken/lite';
import o200kBase from 'js-tiktoken/ranks/o200k_base';
import { type ChatMessage, loadTokenizer, type Tokenizer } from '../src/index.js';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  process.stdout.write(
    'usage: bench/tokenizer.ts [--quick] [--runs N]\n  writes bench-results/tokenizer.json (--quick: bench-results/tmp/tokenizer-quick.json)\n',
  );
  process.exit(0);
}
const quick = args.includes('--quick');
const runsIndex = args.indexOf('--runs');
const runs = runsIndex >= 0 ? Number(args[runsIndex + 1]) : quick ? 1 : 5;
const root = join(import.meta.dirname, '../../..');
const { readFileSync } = await import('node:fs');

const corpus = mixedCorpus({ characters: quick ? 4_000 : 20_000 });
const text = corpus.map((section) => section.text).join('\n');
const megabytes = new TextEncoder().encode(text).length / 1e6;
const conversation: ChatMessage[] = [
  { role: 'system', content: 'You are a helpful assistant. Answer briefly.' },
  { role: 'user', content: 'What is a mixture-of-experts model?' },
  {
    role: 'assistant',
    content: 'A model whose feed-forward layers are split into experts; a router picks a few per token.',
  },
  { role: 'user', content: 'And why run the experts on serverless functions?' },
];

/** Runs `work` `runs` times after one warm-up; returns each run's milliseconds. */
function time(work: () => void, repetitions = runs): number[] {
  work();
  const times: number[] = [];
  for (let i = 0; i < repetitions; i++) {
    const started = performance.now();
    work();
    times.push(performance.now() - started);
  }
  return times;
}

const worst = (times: number[]) => Math.max(...times);
const mbPerSecond = (ms: number) => megabytes / (ms / 1000);
const round = (value: number, digits = 2) => Number(value.toFixed(digits));

interface TokenizerRow {
  tokenizer: string;
  kind: string;
  loadMs: number;
  tokens: number;
  encodeMBps: number;
  encodeWorstMBps: number;
  decodeMBps: number;
  decodeWorstMBps: number;
  streamMBps: number;
  streamWorstMBps: number;
  streamToDecode: number;
  chatRenderUs: number | null;
  chatRenderWorstUs: number | null;
  encodeChatUs: number | null;
}

async function byteLevelDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-bench-bytes-'));
  await writeFile(join(dir, 'config.json'), JSON.stringify({ vocab_size: 256 }));
  return dir;
}

async function measureTokenizer(name: string, load: () => Promise<Tokenizer>): Promise<TokenizerRow> {
  const started = performance.now();
  const tokenizer = await load();
  const loadMs = performance.now() - started;
  let ids: number[] = [];
  const encode = time(() => {
    ids = tokenizer.encode(text, { addSpecialTokens: false });
  });
  const decode = time(() => tokenizer.decode(ids));
  const stream = time(() => {
    const decoder = tokenizer.createDecodeStream();
    for (const id of ids) decoder.push(id);
    decoder.flush();
  });
  let chatRender: number[] | undefined;
  let encodeChat: number[] | undefined;
  if (tokenizer.hasChatTemplate) {
    const repetitions = quick ? 20 : 200;
    chatRender = time(
      () => tokenizer.applyChatTemplate(conversation, { addGenerationPrompt: true }),
      repetitions,
    );
    encodeChat = time(() => tokenizer.encodeChat(conversation, { addGenerationPrompt: true }), repetitions);
  }
  return {
    tokenizer: name,
    kind: tokenizer.kind,
    loadMs: Math.round(loadMs),
    tokens: ids.length,
    encodeMBps: round(mbPerSecond(median(encode))),
    encodeWorstMBps: round(mbPerSecond(worst(encode))),
    decodeMBps: round(mbPerSecond(median(decode))),
    decodeWorstMBps: round(mbPerSecond(worst(decode))),
    streamMBps: round(mbPerSecond(median(stream))),
    streamWorstMBps: round(mbPerSecond(worst(stream))),
    streamToDecode: round(median(decode) / median(stream), 3),
    chatRenderUs: chatRender ? Math.round(median(chatRender) * 1000) : null,
    chatRenderWorstUs: chatRender ? Math.round(worst(chatRender) * 1000) : null,
    encodeChatUs: encodeChat ? Math.round(median(encodeChat) * 1000) : null,
  };
}

const gptOssTemplate = readFileSync(gptOssChatTemplatePath, 'utf8');
const loadFixture = (name: TokenizerFixtureName) => () =>
  loadTokenizer(tokenizerFixtureDir(name), { chatTemplate: name === 'gptoss' ? gptOssTemplate : undefined });

const rows: TokenizerRow[] = [];
for (const name of tokenizerFixtureNames) rows.push(await measureTokenizer(name, loadFixture(name)));
const bytesDir = await byteLevelDir();
rows.push(await measureTokenizer('byte-level', () => loadTokenizer(bytesDir)));
await rm(bytesDir, { recursive: true, force: true });

process.stdout.write(
  `\nTokenizers over the mixed corpus (${round(megabytes, 3)} MB of UTF-8; median of ${runs} runs, worst beside it)\n`,
);
console.table(
  rows.map((row) => ({
    tokenizer: row.tokenizer,
    'load ms': row.loadMs,
    tokens: row.tokens,
    'encode MB/s': `${row.encodeMBps} (${row.encodeWorstMBps})`,
    'decode MB/s': `${row.decodeMBps} (${row.decodeWorstMBps})`,
    'stream MB/s': `${row.streamMBps} (${row.streamWorstMBps})`,
    'stream/decode': row.streamToDecode,
    'chat render µs': row.chatRenderUs === null ? '—' : `${row.chatRenderUs} (${row.chatRenderWorstUs})`,
    'encodeChat µs': row.encodeChatUs ?? '—',
  })),
);

// 2. gpt-oss beside js-tiktoken's o200k_base.
const gptOss = await loadFixture('gptoss')();
const tiktoken = new Tiktoken(o200kBase);
const ours = time(() => gptOss.encode(text, { addSpecialTokens: false }));
const reference = time(() => tiktoken.encode(text));
const sameIds =
  JSON.stringify(gptOss.encode(text, { addSpecialTokens: false })) === JSON.stringify(tiktoken.encode(text));
const tiktokenRow = {
  oursMBps: round(mbPerSecond(median(ours))),
  oursWorstMBps: round(mbPerSecond(worst(ours))),
  jsTiktokenMBps: round(mbPerSecond(median(reference))),
  jsTiktokenWorstMBps: round(mbPerSecond(worst(reference))),
  oursToJsTiktoken: round(median(reference) / median(ours), 3),
  sameIds,
};
process.stdout.write('\ngpt-oss encode beside js-tiktoken o200k_base (ratio > 1: ours is faster)\n');
console.table([tiktokenRow]);

// 3. The tokenizer's share of a chat completion.
interface ShareRow {
  model: string;
  promptTokens: number;
  newTokens: number;
  templateEncodeMs: number;
  streamDecodeMs: number;
  completionMs: number;
  completionWorstMs: number;
  tokenizerShare: number;
}
const shareRows: ShareRow[] = [];
for (const name of (quick ? ['qwen3'] : ['qwen3', 'gptoss', 'llama3_1']) as TokenizerFixtureName[]) {
  const tiny = await writeTinyHubModel(name);
  const tokenizer = await loadTokenizer(tiny.dir);
  const model = await loadModel(tiny.dir);
  const newTokens = quick ? 4 : 32;
  const samples: Array<{ encode: number; decode: number; total: number; promptTokens: number }> = [];
  for (let run = 0; run <= runs; run++) {
    const started = performance.now();
    const prompt = tokenizer.encodeChat(conversation, { addGenerationPrompt: true });
    const encoded = performance.now();
    const stream = tokenizer.createDecodeStream({ skipSpecialTokens: true });
    let decodeMs = 0;
    await model.generate([prompt], {
      maxNewTokens: newTokens,
      greedy: true,
      onToken: (_, token) => {
        const t0 = performance.now();
        stream.push(token);
        decodeMs += performance.now() - t0;
      },
    });
    const t0 = performance.now();
    stream.flush();
    decodeMs += performance.now() - t0;
    if (run > 0)
      samples.push({
        encode: encoded - started,
        decode: decodeMs,
        total: performance.now() - started,
        promptTokens: prompt.length,
      });
  }
  await model.close();
  await tiny.remove();
  const totals = samples.map((sample) => sample.total);
  const tokenizerMs = samples.map((sample) => sample.encode + sample.decode);
  shareRows.push({
    model: `${tiny.architecture} + ${name}`,
    promptTokens: samples[0]!.promptTokens,
    newTokens,
    templateEncodeMs: round(median(samples.map((sample) => sample.encode)), 3),
    streamDecodeMs: round(median(samples.map((sample) => sample.decode)), 3),
    completionMs: round(median(totals), 1),
    completionWorstMs: round(worst(totals), 1),
    tokenizerShare: round(median(tokenizerMs) / median(totals), 4),
  });
}
process.stdout.write('\nShare of a chat completion spent in the tokenizer (tiny models: an upper bound)\n');
console.table(shareRows);

const results = {
  date: new Date().toISOString(),
  machine: { loadAverage1m: round(loadavg()[0]!, 2), node: process.version },
  quick,
  runs,
  corpus: {
    megabytes: round(megabytes, 4),
    sections: corpus.map((section) => ({ name: section.name, characters: section.text.length })),
  },
  tokenizers: rows,
  gptOssVersusJsTiktoken: tiktokenRow,
  completionShare: shareRows,
};
// A --quick run proves the script works; its figures stay out of the committed results.
const resultsFile = quick ? 'bench-results/tmp/tokenizer-quick.json' : 'bench-results/tokenizer.json';
mkdirSync(join(root, 'bench-results/tmp'), { recursive: true });
writeFileSync(join(root, resultsFile), `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`\nwrote ${resultsFile}\n`);
if (!sameIds) {
  process.stderr.write('gpt-oss and js-tiktoken gave different ids on the corpus\n');
  process.exitCode = 1;
}
