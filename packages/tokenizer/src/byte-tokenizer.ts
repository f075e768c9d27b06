import type { ChatMessage } from './chat-message.js';
import { type ChatTemplate, renderChat } from './chat-template.js';
import { createWindowDecodeStream } from './decode-stream.js';
import { tokenizerLoadError } from './errors.js';
import type { ChatTemplateOptions } from './options.js';
import { checkText, checkTokenIds } from './token-ids.js';
import type { DecodeOptions, DecodeStream, EncodeOptions, Tokenizer } from './tokenizer.js';

/** Byte values: the ids a byte-level model's text uses. */
const byteCount = 256;

/**
 * The tokenizer of a byte-level checkpoint (no tokenizer files): ids are the text's UTF-8 bytes. Ids from
 * 256 up to the model's vocabulary stand for no text; there are no special tokens and no EOS.
 */
export class ByteTokenizer implements Tokenizer {
  readonly kind = 'byte' as const;
  readonly specialTokens = {};
  readonly bosTokenId = undefined;
  readonly eosTokenIds: readonly number[];
  readonly addBosToken = false;
  private readonly decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  private readonly encoder = new TextEncoder();

  constructor(
    readonly vocabSize: number,
    private readonly chatTemplate: ChatTemplate | undefined,
    generationEosIds: readonly number[],
    location: string,
  ) {
    if (!Number.isSafeInteger(vocabSize) || vocabSize < byteCount)
      throw tokenizerLoadError(
        `vocab_size ${vocabSize} cannot hold byte tokens (a checkpoint without tokenizer.json must have vocab_size >= 256)`,
        `${location}: vocab_size`,
      );
    this.eosTokenIds = [...new Set(generationEosIds)];
  }

  get hasChatTemplate(): boolean {
    return this.chatTemplate !== undefined;
  }

  encode(text: string, _options?: EncodeOptions): number[] {
    checkText(text);
    return [...this.encoder.encode(text)];
  }

  private decodeRaw(ids: readonly number[]): string {
    return this.decoder.decode(Uint8Array.from(ids.filter((id) => id < byteCount)));
  }

  decode(ids: readonly number[], _options?: DecodeOptions): string {
    checkTokenIds(ids);
    return this.decodeRaw(ids);
  }

  tokenText(id: number): string {
    checkTokenIds([id], 'token');
    return this.decodeRaw([id]);
  }

  createDecodeStream(_options?: DecodeOptions): DecodeStream {
    const stream = createWindowDecodeStream((ids) => this.decodeRaw(ids), false);
    return {
      push: (id) => {
        checkTokenIds([id], 'token');
        return stream.push(id);
      },
      flush: () => stream.flush(),
    };
  }

  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
    return renderChat(this.chatTemplate, messages, options);
  }

  encodeChat(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): number[] {
    return this.encode(this.applyChatTemplate(messages, options));
  }
}
