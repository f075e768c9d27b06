import { Tokenizer as HubTokenizerModel } from '@huggingface/tokenizers';
import { describeError } from '@switchyard/core';
import type { ChatMessage } from './chat-message.js';
import { type ChatTemplate, renderChat } from './chat-template.js';
import { cleanUpTokenizationSpaces } from './clean-up-spaces.js';
import { createWindowDecodeStream } from './decode-stream.js';
import { tokenizerLoadError } from './errors.js';
import type { ChatTemplateOptions } from './options.js';
import { checkText, checkTokenIds } from './token-ids.js';
import type { DecodeOptions, DecodeStream, EncodeOptions, SpecialTokens, Tokenizer } from './tokenizer.js';

/**
 * Tokenizer classes whose BOS/EOS come from tokenizer_config's `add_bos_token` / `add_eos_token` rather
 * than tokenizer.json's post-processor: transformers rebuilds their post-processor from those flags
 * (`update_post_processor`), so DeepSeek-V3's file, say, has no BOS in its post-processor yet HF adds one.
 */
const flagDrivenClasses = new Set([
  'LlamaTokenizer',
  'LlamaTokenizerFast',
  'CodeLlamaTokenizer',
  'CodeLlamaTokenizerFast',
  'GemmaTokenizer',
  'GemmaTokenizerFast',
  'CohereTokenizerFast',
]);

/** The special-token fields of tokenizer_config.json that name one token. */
const specialTokenFields = [
  'bos_token',
  'eos_token',
  'unk_token',
  'sep_token',
  'pad_token',
  'cls_token',
  'mask_token',
] as const;

/** The parts of tokenizer_config.json the tokenizer uses, already checked. */
export interface HubTokenizerFiles {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  /** Where tokenizer_config.json is (for errors); the directory when it is absent. */
  configLocation: string;
  tokenizerLocation: string;
}

/** A special token's text: a string, or an AddedToken object `{ content }`, or null. */
function specialTokenText(value: unknown, location: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string')
    return (value as { content: string }).content;
  throw tokenizerLoadError('expected a string, an object with "content" or null', location);
}

function optionalBoolean(
  config: Record<string, unknown>,
  field: string,
  location: string,
): boolean | undefined {
  const value = config[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw tokenizerLoadError('expected true or false', `${location}: ${field}`);
  return value;
}

export interface HubTokenizerParts {
  specialTokens: SpecialTokens;
  /** HF's `special_tokens_map`, what templates see (`bos_token`, …, `additional_special_tokens`). */
  specialTokensMap: Record<string, unknown>;
}

/** Reads the special tokens of tokenizer_config.json (MODEL_LOAD_FAILED naming a malformed field). */
export function readSpecialTokens(config: Record<string, unknown>, location: string): HubTokenizerParts {
  const specialTokens: SpecialTokens = {};
  const specialTokensMap: Record<string, unknown> = {};
  for (const field of specialTokenFields) {
    const text = specialTokenText(config[field], `${location}: ${field}`);
    if (text === undefined) continue;
    specialTokens[field.replace(/_token$/, '')] = text;
    specialTokensMap[field] = text;
  }
  const additional = config.additional_special_tokens;
  if (additional !== undefined && additional !== null) {
    if (!Array.isArray(additional))
      throw tokenizerLoadError('expected an array', `${location}: additional_special_tokens`);
    specialTokensMap.additional_special_tokens = additional.map((entry, i) =>
      specialTokenText(entry, `${location}: additional_special_tokens[${i}]`),
    );
  }
  return { specialTokens, specialTokensMap };
}

/** A tokenizer from a checkpoint's tokenizer.json (@huggingface/tokenizers) and tokenizer_config.json. */
export class HubTokenizer implements Tokenizer {
  readonly kind = 'hub' as const;
  readonly vocabSize: number;
  readonly specialTokens: SpecialTokens;
  readonly bosTokenId: number | undefined;
  readonly eosTokenIds: readonly number[];
  readonly addBosToken: boolean;
  private readonly model: HubTokenizerModel;
  private readonly cleanUp: boolean;
  /** For flag-driven classes: the ids to put around a text; undefined: the post-processor decides. */
  private readonly flagDriven: { bos: number | undefined; eos: number | undefined } | undefined;
  /** SentencePiece vocabularies mark a leading space with U+2581 (▁). */
  private readonly metaspace: boolean;

  constructor(
    files: HubTokenizerFiles,
    private readonly chatTemplate: ChatTemplate | undefined,
    generationEosIds: readonly number[],
  ) {
    const { tokenizerJson, tokenizerConfig, configLocation, tokenizerLocation } = files;
    const model = tokenizerJson.model as Record<string, unknown> | undefined;
    if (typeof model !== 'object' || model === null || typeof model.type !== 'string')
      throw tokenizerLoadError(
        'the tokenizer model is missing (no "model.type")',
        `${tokenizerLocation}: model`,
      );
    try {
      this.model = new HubTokenizerModel(tokenizerJson, tokenizerConfig);
    } catch (error) {
      throw tokenizerLoadError(
        `cannot build the tokenizer: ${describeError(error)}`,
        tokenizerLocation,
        error,
      );
    }
    const { specialTokens } = readSpecialTokens(tokenizerConfig, configLocation);
    this.specialTokens = specialTokens;
    const vocabulary = this.model.get_vocab(true);
    let largest = -1;
    for (const id of vocabulary.values()) if (id > largest) largest = id;
    this.vocabSize = largest + 1;
    const idOf = (field: string, text: string | undefined): number | undefined => {
      if (text === undefined) return undefined;
      const id = this.model.token_to_id(text);
      if (id === undefined)
        throw tokenizerLoadError(
          `${field} ${JSON.stringify(text)} is not in the vocabulary`,
          `${configLocation}: ${field}`,
        );
      return id;
    };
    this.bosTokenId = idOf('bos_token', specialTokens.bos);
    const eos = idOf('eos_token', specialTokens.eos);
    this.eosTokenIds = [...new Set([...(eos === undefined ? [] : [eos]), ...generationEosIds])];
    this.cleanUp = optionalBoolean(tokenizerConfig, 'clean_up_tokenization_spaces', configLocation) ?? false;
    const tokenizerClass = tokenizerConfig.tokenizer_class;
    if (typeof tokenizerClass === 'string' && flagDrivenClasses.has(tokenizerClass)) {
      const addBos = optionalBoolean(tokenizerConfig, 'add_bos_token', configLocation) ?? true;
      const addEos = optionalBoolean(tokenizerConfig, 'add_eos_token', configLocation) ?? false;
      this.flagDriven = { bos: addBos ? this.bosTokenId : undefined, eos: addEos ? eos : undefined };
    }
    const decoder = JSON.stringify(tokenizerJson.decoder ?? null);
    this.metaspace = decoder.includes('Metaspace') || decoder.includes('\\u2581') || decoder.includes('▁');
    const probe = this.encode('a');
    this.addBosToken = this.bosTokenId !== undefined && probe[0] === this.bosTokenId;
  }

  get hasChatTemplate(): boolean {
    return this.chatTemplate !== undefined;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    checkText(text);
    const addSpecialTokens = options.addSpecialTokens ?? true;
    if (this.flagDriven) {
      const ids = text === '' ? [] : this.model.encode(text, { add_special_tokens: false }).ids;
      if (!addSpecialTokens) return ids;
      const { bos, eos } = this.flagDriven;
      return [...(bos === undefined ? [] : [bos]), ...ids, ...(eos === undefined ? [] : [eos])];
    }
    return this.model.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  /** Decodes without the clean-up of spaces; ids with no token are skipped (as HF's tokenizers do). */
  private decodeRaw(ids: readonly number[], skipSpecialTokens: boolean): string {
    const known = ids.filter((id) => this.model.id_to_token(id) !== undefined);
    if (known.length === 0) return '';
    return this.model.decode(known, {
      skip_special_tokens: skipSpecialTokens,
      clean_up_tokenization_spaces: false,
    });
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    checkTokenIds(ids);
    const text = this.decodeRaw(ids, options.skipSpecialTokens ?? false);
    return this.cleanUp ? cleanUpTokenizationSpaces(text) : text;
  }

  tokenText(id: number): string {
    checkTokenIds([id], 'token');
    const token = this.model.id_to_token(id);
    if (token === undefined) return '';
    const text = this.decodeRaw([id], false);
    // A lone SentencePiece token loses its leading space (the decoder strips the text's first one).
    return this.metaspace && token.startsWith('▁') && !text.startsWith(' ') ? ` ${text}` : text;
  }

  createDecodeStream(options: DecodeOptions = {}): DecodeStream {
    const skip = options.skipSpecialTokens ?? false;
    const stream = createWindowDecodeStream((ids) => this.decodeRaw(ids, skip), this.cleanUp);
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
    return this.encode(this.applyChatTemplate(messages, options), { addSpecialTokens: false });
  }
}
