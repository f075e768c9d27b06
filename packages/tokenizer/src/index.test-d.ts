import { expectTypeOf, test } from 'vitest';
import type * as api from './index.js';

// The public surface of @switchyard/tokenizer. Adding or removing an export is a decision: change this
// list in the same commit (tooling/scripts/api-surface.ts prints the current one).
test('@switchyard/tokenizer exports exactly its tokenizer API', () => {
  expectTypeOf<keyof typeof api>().toEqualTypeOf<
    'TokenizerError' | 'chatRoles' | 'cleanUpTokenizationSpaces' | 'loadTokenizer' | 'readGenerationConfig'
  >();
  expectTypeOf<api.Tokenizer['encode']>().returns.toEqualTypeOf<number[]>();
  expectTypeOf<api.Tokenizer['kind']>().toEqualTypeOf<'hub' | 'byte'>();
  expectTypeOf<api.Tokenizer['eosTokenIds']>().toEqualTypeOf<readonly number[]>();
  expectTypeOf<api.DecodeStream['push']>().returns.toEqualTypeOf<string>();
  expectTypeOf<typeof api.loadTokenizer>().returns.toEqualTypeOf<Promise<api.Tokenizer>>();
  expectTypeOf<typeof api.readGenerationConfig>().returns.toEqualTypeOf<Promise<api.GenerationConfig>>();
  expectTypeOf<api.ChatTemplateOptions>().toHaveProperty('addGenerationPrompt');
  expectTypeOf<api.TokenizerErrorCode>().toEqualTypeOf<'INVALID_INPUT' | 'NOT_FOUND' | 'MODEL_LOAD_FAILED'>();
});
