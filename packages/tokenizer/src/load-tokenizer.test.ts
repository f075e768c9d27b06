import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tokenizerFixtureDir } from '@switchyard/testing/tokenizer-fixtures';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TokenizerError } from './errors.js';
import { loadTokenizer } from './load-tokenizer.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'switchyard-tokenizer-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A directory with the given files (JSON values are serialised). */
async function directory(name: string, files: Record<string, unknown>): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  for (const [file, content] of Object.entries(files))
    await writeFile(join(dir, file), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}

/** A copy of Llama 2's tokenizer files (the smallest fixture), with tokenizer_config.json changed. */
async function llamaCopy(
  name: string,
  configChange: (config: Record<string, unknown>) => void,
): Promise<string> {
  const source = tokenizerFixtureDir('llama2');
  const dir = await directory(name, {});
  await copyFile(join(source, 'tokenizer.json'), join(dir, 'tokenizer.json'));
  const config = JSON.parse(await readFile(join(source, 'tokenizer_config.json'), 'utf8'));
  configChange(config);
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  return dir;
}

async function loadError(dir: string, options = {}): Promise<TokenizerError> {
  try {
    await loadTokenizer(dir, options);
  } catch (error) {
    expect(TokenizerError.isInstance(error)).toBe(true);
    return error as TokenizerError;
  }
  throw new Error(`loadTokenizer(${dir}) should have failed`);
}

describe('byte-level checkpoints (no tokenizer.json)', () => {
  test('ids are UTF-8 bytes, sized by config.json, EOS from generation_config.json', async () => {
    const dir = await directory('bytes', {
      'config.json': { vocab_size: 260 },
      'generation_config.json': { eos_token_id: [257, 258] },
    });
    const tokenizer = await loadTokenizer(dir);
    expect(tokenizer.kind).toBe('byte');
    expect(tokenizer.vocabSize).toBe(260);
    expect(tokenizer.eosTokenIds).toEqual([257, 258]);
    expect(tokenizer.hasChatTemplate).toBe(false);
    expect(tokenizer.encode('hé🤗')).toEqual([...new TextEncoder().encode('hé🤗')]);
    expect(tokenizer.decode([...tokenizer.encode('hé🤗'), 257])).toBe('hé🤗');
    const stream = tokenizer.createDecodeStream();
    const chunks = tokenizer.encode('é🤗').map((id) => stream.push(id));
    expect(chunks).toEqual(['', 'é', '', '', '', '🤗']);
    expect(stream.flush()).toBe('');
    expect(() => tokenizer.applyChatTemplate([{ role: 'user', content: 'hi' }])).toThrow(/no chat template/);
  });

  test('a chat template given as an option works for a byte-level model', async () => {
    const dir = await directory('bytes-chat', { 'config.json': { vocab_size: 256 } });
    const tokenizer = await loadTokenizer(dir, {
      chatTemplate:
        '{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}',
    });
    const prompt = tokenizer.applyChatTemplate(
      [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'a' },
            { type: 'text', text: 'b' },
          ],
        },
      ],
      { addGenerationPrompt: true },
    );
    expect(prompt).toBe('user: a\nb\nassistant:');
    expect(tokenizer.encodeChat([{ role: 'user', content: 'x' }])).toEqual([
      ...new TextEncoder().encode('user: x\n'),
    ]);
  });

  test('a vocabulary too small for bytes, or no config at all, is a load failure naming the file', async () => {
    const small = await loadError(await directory('small', { 'config.json': { vocab_size: 100 } }));
    expect(small.code).toBe('MODEL_LOAD_FAILED');
    expect(small.message).toMatch(/config\.json: vocab_size/);
    const empty = await loadError(await directory('empty', {}));
    expect(empty.message).toMatch(/no tokenizer\.json and no config\.json/);
    const sentencePiece = await loadError(await directory('sp-only', { 'tokenizer.model': 'binary' }));
    expect(sentencePiece.message).toMatch(/tokenizer\.model/);
  });
});

describe('damaged tokenizer files', () => {
  test('a missing directory is NOT_FOUND', async () => {
    expect((await loadError(join(root, 'nowhere'))).code).toBe('NOT_FOUND');
  });

  test('tokenizer.json that is not JSON names the file', async () => {
    const error = await loadError(await directory('bad-json', { 'tokenizer.json': '{"model": ' }));
    expect(error.code).toBe('MODEL_LOAD_FAILED');
    expect(error.message).toMatch(/tokenizer\.json is not valid JSON/);
  });

  test('tokenizer.json without a model names the field', async () => {
    const error = await loadError(await directory('no-model', { 'tokenizer.json': { version: '1.0' } }));
    expect(error.message).toMatch(/tokenizer\.json: model/);
  });

  test('a malformed special token names tokenizer_config.json and the field', async () => {
    const dir = await llamaCopy('bad-eos', (config) => {
      config.eos_token = 42;
    });
    const error = await loadError(dir);
    expect(error.code).toBe('MODEL_LOAD_FAILED');
    expect(error.message).toMatch(/tokenizer_config\.json: eos_token/);
  });

  test('a special token missing from the vocabulary names the field', async () => {
    const dir = await llamaCopy('unknown-bos', (config) => {
      config.bos_token = '<not-a-token>';
    });
    expect((await loadError(dir)).message).toMatch(
      /bos_token "<not-a-token>" is not in the vocabulary.*tokenizer_config\.json: bos_token/,
    );
  });

  test('a chat template that does not parse names where it came from', async () => {
    const dir = await llamaCopy('bad-template', (config) => {
      config.chat_template = '{% for m in messages %}{{ m.content }';
    });
    const error = await loadError(dir);
    expect(error.message).toMatch(/chat template does not parse.*tokenizer_config\.json: chat_template/);
  });

  test('a damaged generation_config.json names the field', async () => {
    const dir = await llamaCopy('bad-generation', () => {});
    await writeFile(join(dir, 'generation_config.json'), JSON.stringify({ eos_token_id: 'two' }));
    expect((await loadError(dir)).message).toMatch(/generation_config\.json: eos_token_id/);
  });
});

describe('tokenizer_config.json behaviour', () => {
  test('chat_template.jinja wins over the config, named templates pick tool_use when tools are given', async () => {
    const named = await llamaCopy('named', (config) => {
      config.chat_template = [
        { name: 'default', template: 'plain:{{ messages[0].content }}' },
        { name: 'tool_use', template: 'tools:{{ tools | length }}' },
      ];
    });
    const tokenizer = await loadTokenizer(named);
    expect(tokenizer.applyChatTemplate([{ role: 'user', content: 'x' }])).toBe('plain:x');
    expect(tokenizer.applyChatTemplate([{ role: 'user', content: 'x' }], { tools: [{}, {}] })).toBe(
      'tools:2',
    );
    await writeFile(join(named, 'chat_template.jinja'), 'file:{{ bos_token }}{{ messages[0].content }}');
    expect((await loadTokenizer(named)).applyChatTemplate([{ role: 'user', content: 'y' }])).toBe(
      'file:<s>y',
    );
  });

  test('add_bos_token / add_eos_token drive BOS and EOS for Llama-class tokenizers', async () => {
    const dir = await llamaCopy('flags', (config) => {
      config.add_bos_token = false;
      config.add_eos_token = true;
    });
    const tokenizer = await loadTokenizer(dir);
    expect(tokenizer.addBosToken).toBe(false);
    const ids = tokenizer.encode('Hi');
    expect(ids.at(-1)).toBe(2);
    expect(ids[0]).not.toBe(1);
  });

  test('bad requests: unknown roles, malformed content, ids that are not token ids', async () => {
    const tokenizer = await loadTokenizer(
      await llamaCopy('requests', (config) => {
        config.chat_template = '{{ messages | length }}';
      }),
    );
    const invalid = (action: () => unknown, pattern: RegExp) => {
      try {
        action();
        expect.unreachable('should have thrown');
      } catch (error) {
        expect((error as TokenizerError).code).toBe('INVALID_INPUT');
        expect((error as Error).message).toMatch(pattern);
      }
    };
    invalid(
      () => tokenizer.applyChatTemplate([{ role: 'robot', content: 'x' }]),
      /unknown role "robot".*messages\[0\]\.role/,
    );
    invalid(
      () =>
        tokenizer.applyChatTemplate([
          { role: 'user', content: 'x' },
          { role: 'user', content: 5 as never },
        ]),
      /content must be.*messages\[1\]\.content/,
    );
    invalid(() => tokenizer.applyChatTemplate([]), /messages is empty/);
    invalid(() => tokenizer.decode([1, -1]), /tokens\[1\]/);
    invalid(() => tokenizer.decode([1.5]), /not a non-negative integer/);
    invalid(() => tokenizer.encode(3 as never), /expected a string/);
    invalid(() => tokenizer.createDecodeStream().push(Number.NaN), /token/);
    expect(tokenizer.decode([1, 999_999, 15043])).toBe(tokenizer.decode([1, 15043]));
  });
});
