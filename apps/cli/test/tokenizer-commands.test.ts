import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mapLimited, runCli } from '@switchyard/testing/cli';
import { tokenizerFixtureDir } from '@switchyard/testing/tokenizer-fixtures';
import { loadTokenizer } from '@switchyard/tokenizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// tokenize / detokenize on directories that hold only tokenizer files (the npm fixture packages), and on
// a hub id laid out in a Hugging Face cache the test makes.
const work = mkdtempSync(join(tmpdir(), 'switchyard-tokenize-'));
const llama = tokenizerFixtureDir('llama3_1');
const qwen = tokenizerFixtureDir('qwen3');
afterAll(() => rmSync(work, { recursive: true, force: true }));

function json(run: { code: number | null; stdout: string; stderr: string }): Record<string, unknown> {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

describe('switchyard tokenize / detokenize', () => {
  const messages = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hello 🤗' },
  ];
  const messagesFile = join(work, 'messages.json');
  const textFile = join(work, 'text.txt');
  let hubCache: string;
  beforeAll(() => {
    writeFileSync(messagesFile, JSON.stringify(messages));
    writeFileSync(textFile, 'Hello world');
    // meta-llama/Llama-3.1-8B-Instruct as huggingface_hub lays it out: refs/main → snapshots/<hash>.
    hubCache = join(work, 'hub');
    const repository = join(hubCache, 'models--meta-llama--Llama-3.1-8B-Instruct');
    const snapshot = join(repository, 'snapshots', '0e9e39f249a16976918f6564b8830bc894c89659');
    mkdirSync(snapshot, { recursive: true });
    mkdirSync(join(repository, 'refs'));
    writeFileSync(join(repository, 'refs', 'main'), '0e9e39f249a16976918f6564b8830bc894c89659');
    for (const file of ['tokenizer.json', 'tokenizer_config.json'])
      copyFileSync(join(llama, file), join(snapshot, file));
  });

  it('tokenizes a text with BOS as Hugging Face does, and a file the same way', async () => {
    const result = json(await runCli(['tokenize', llama, '--text', 'Hello world', '--json']));
    expect(result).toEqual({ tokens: [128000, 9906, 1917], prompt: 'Hello world' });
    expect(json(await runCli(['tokenize', '--model', llama, '--text-file', textFile, '--json']))).toEqual(
      result,
    );
    const bare = json(
      await runCli(['tokenize', llama, '--text', 'Hello world', '--no-special-tokens', '--json']),
    );
    expect(bare.tokens).toEqual([9906, 1917]);
  });

  it('renders a chat with the template and encodes it without a second BOS', async () => {
    const result = json(
      await runCli(['tokenize', llama, '--chat', messagesFile, '--add-generation-prompt', '--json']),
    );
    const tokenizer = await loadTokenizer(llama);
    const prompt = tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });
    expect(result.prompt).toBe(prompt);
    expect(prompt.startsWith('<|begin_of_text|><|start_header_id|>system')).toBe(true);
    expect(prompt.endsWith('<|start_header_id|>assistant<|end_header_id|>\n\n')).toBe(true);
    const tokens = result.tokens as number[];
    expect(tokens.filter((id) => id === 128000)).toHaveLength(1);
    expect(tokens).toEqual(tokenizer.encode(prompt, { addSpecialTokens: false }));
    const qwenChat = json(await runCli(['tokenize', qwen, '--chat', messagesFile, '--json']));
    expect(qwenChat.prompt).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello 🤗<|im_end|>\n',
    );
  });

  it('detokenizes, keeping special tokens unless asked to skip them', async () => {
    expect(json(await runCli(['detokenize', llama, '--tokens', '128000,9906,1917', '--json']))).toEqual({
      text: '<|begin_of_text|>Hello world',
    });
    const skipped = await runCli([
      'detokenize',
      llama,
      '--tokens',
      '128000, 9906, 1917',
      '--skip-special-tokens',
    ]);
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toBe('Hello world\n');
  });

  it('resolves a hub id in the local Hugging Face cache (HF_HUB_CACHE), never downloading', async () => {
    const env = { HF_HUB_CACHE: hubCache, HOME: work };
    const result = json(
      await runCli(['tokenize', 'meta-llama/Llama-3.1-8B-Instruct', '--text', 'Hello world', '--json'], {
        env,
      }),
    );
    expect(result.tokens).toEqual([128000, 9906, 1917]);
    const missing = await runCli(['tokenize', 'meta-llama/Llama-3.1-70B', '--text', 'x'], { env });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(join(hubCache, 'models--meta-llama--Llama-3.1-70B'));
    expect(missing.stderr).toContain(
      join(work, '.cache', 'huggingface', 'hub', 'models--meta-llama--Llama-3.1-70B'),
    );
  });

  it('refuses bad input with one line: no source, two sources, two models, bad ids, an unknown role', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['tokenize', llama], /give exactly one of --text, --text-file and --chat/],
      [['tokenize', llama, '--text', 'a', '--chat', messagesFile], /give exactly one/],
      [['tokenize', llama, '--model', qwen, '--text', 'a'], /two models given/],
      [['detokenize', llama, '--tokens', '1,x'], /"x" is not a token id/],
      [['tokenize', 'a/b/c', '--text', 'a'], /model directory not found/],
    ];
    const badRole = join(work, 'bad-role.json');
    writeFileSync(badRole, JSON.stringify([{ role: 'robot', content: 'hi' }]));
    cases.push([['tokenize', llama, '--chat', badRole], /unknown role "robot".*messages\[0\]\.role/]);
    // Two at a time (the machine has two cores); each is a fresh process.
    const runs = await mapLimited(cases, 2, ([argv]) => runCli(argv));
    for (const [index, [argv, pattern]] of cases.entries()) {
      const run = runs[index]!;
      expect(run.code, argv.join(' ')).toBe(2 + (pattern.source.includes('not found') ? 1 : 0));
      expect(run.stderr.trim().split('\n'), argv.join(' ')).toHaveLength(1);
      expect(run.stderr).toMatch(pattern);
    }
  });

  it('prints its version', async () => {
    const run = await runCli(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^switchyard \d+\.\d+\.\d+ \(core \d+\.\d+\.\d+, model .*tokenizer .*serving .*; node v\d+/,
    );
  });
});
