import type { ChatMessage } from './chat-message.js';
import type { ChatTemplateOptions } from './options.js';

export interface EncodeOptions {
  /** Add the special tokens the tokenizer adds around a text (BOS, say), as Hugging Face does. Default true. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Leave out special tokens (BOS, EOS, chat markers). Default false, as in Hugging Face. */
  skipSpecialTokens?: boolean;
}

/**
 * Turns token ids into text one id at a time. The concatenation of everything `push` and `flush` return
 * equals `decode(ids)` of all ids pushed (with the same options): a chunk never ends inside a UTF-8
 * character, never loses or adds a space at a token boundary.
 */
export interface DecodeStream {
  /** The text that became certain with this id ('' while a character is still incomplete). */
  push(id: number): string;
  /** The rest: text held back (an incomplete character becomes U+FFFD, as the one-shot decode gives). */
  flush(): string;
}

/** The special tokens of a tokenizer by their Hugging Face names (`bos_token` → `bos`). */
export interface SpecialTokens {
  bos?: string;
  eos?: string;
  pad?: string;
  unk?: string;
  [name: string]: string | undefined;
}

/** A checkpoint's tokenizer: its vocabulary, special tokens and chat template. */
export interface Tokenizer {
  /** `hub`: tokenizer.json from the checkpoint; `byte`: ids are UTF-8 bytes (no tokenizer files). */
  readonly kind: 'hub' | 'byte';
  /** Ids the tokenizer can produce (its vocabulary with the added tokens): the largest id + 1. */
  readonly vocabSize: number;
  readonly specialTokens: SpecialTokens;
  readonly bosTokenId: number | undefined;
  /** Ids that end generation: tokenizer_config's eos_token and generation_config.json's eos_token_id. */
  readonly eosTokenIds: readonly number[];
  /** Whether `encode` (with special tokens) starts with the BOS token. */
  readonly addBosToken: boolean;
  encode(text: string, options?: EncodeOptions): number[];
  /** Ids that stand for no token (beyond the vocabulary) are skipped, as Hugging Face's tokenizers do. */
  decode(ids: readonly number[], options?: DecodeOptions): string;
  /** The text one token stands for (a lone piece of a multi-byte character shows as U+FFFD). */
  tokenText(id: number): string;
  createDecodeStream(options?: DecodeOptions): DecodeStream;
  readonly hasChatTemplate: boolean;
  /** Renders a conversation with the checkpoint's chat template, as Hugging Face's `apply_chat_template`. */
  applyChatTemplate(messages: readonly ChatMessage[], options?: ChatTemplateOptions): string;
  /** The rendered conversation's ids, encoded WITHOUT adding special tokens again (no double BOS). */
  encodeChat(messages: readonly ChatMessage[], options?: ChatTemplateOptions): number[];
}
