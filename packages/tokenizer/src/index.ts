export { type ChatMessage, chatRoles } from './chat-message.js';
export { cleanUpTokenizationSpaces } from './clean-up-spaces.js';
export { TokenizerError, type TokenizerErrorCode, type TokenizerErrorOptions } from './errors.js';
export { type GenerationConfig, readGenerationConfig } from './generation-config.js';
export { loadTokenizer } from './load-tokenizer.js';
export type { ChatTemplateOptions, LoadTokenizerOptions } from './options.js';
export type {
  DecodeOptions,
  DecodeStream,
  EncodeOptions,
  SpecialTokens,
  Tokenizer,
} from './tokenizer.js';
