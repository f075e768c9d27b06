import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { TokenizerError } from './errors.js';
import { parseGenerationConfig, readGenerationConfig } from './generation-config.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-generation-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('an absent generation_config.json gives {}', async () => {
  expect(await readGenerationConfig(dir)).toEqual({});
});

test('reads EOS ids (one or several), sampling defaults and ignores other fields', async () => {
  await writeFile(
    join(dir, 'generation_config.json'),
    JSON.stringify({
      bos_token_id: 1,
      eos_token_id: [2, 7],
      pad_token_id: null,
      temperature: 0.6,
      top_p: 0.95,
      top_k: 20,
      repetition_penalty: 1.1,
      max_new_tokens: 512,
      do_sample: true,
      transformers_version: '4.51.0',
    }),
  );
  expect(await readGenerationConfig(dir)).toEqual({
    bosTokenId: 1,
    eosTokenIds: [2, 7],
    temperature: 0.6,
    topP: 0.95,
    topK: 20,
    repetitionPenalty: 1.1,
    maxNewTokens: 512,
    doSample: true,
  });
  expect(parseGenerationConfig({ eos_token_id: 5 }).eosTokenIds).toEqual([5]);
});

test('a bad field is MODEL_LOAD_FAILED naming the file and field', () => {
  for (const [raw, field] of [
    [{ top_p: 2 }, 'top_p'],
    [{ eos_token_id: [-1] }, 'eos_token_id.0'],
    [[], '(root)'],
  ] as const) {
    try {
      parseGenerationConfig(raw);
      expect.unreachable();
    } catch (error) {
      expect(TokenizerError.isInstance(error)).toBe(true);
      expect((error as TokenizerError).code).toBe('MODEL_LOAD_FAILED');
      if (field !== '(root)') expect((error as Error).message).toContain(`generation_config.json: ${field}`);
    }
  }
});
