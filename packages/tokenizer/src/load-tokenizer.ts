import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { noopLogger, parseWithSchema } from '@switchyard/core';
import { ByteTokenizer } from './byte-tokenizer.js';
import { ChatTemplate, type ChatTemplateSource } from './chat-template.js';
import { TokenizerError, tokenizerLoadError } from './errors.js';
import { parseGenerationConfig } from './generation-config.js';
import { HubTokenizer, readSpecialTokens } from './hub-tokenizer.js';
import { readOptionalJson, readOptionalText, requireObject } from './json-file.js';
import { type LoadTokenizerOptions, loadTokenizerOptionsSchema } from './options.js';
import type { Tokenizer } from './tokenizer.js';

/** tokenizer_config.json's `chat_template`: one template, or a list of named ones (`{ name, template }`). */
function chatTemplatesFromConfig(value: unknown, location: string): Map<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return new Map([['default', value]]);
  if (Array.isArray(value)) {
    const templates = new Map<string, string>();
    value.forEach((entry, i) => {
      const { name, template } = (entry ?? {}) as { name?: unknown; template?: unknown };
      if (typeof name !== 'string' || typeof template !== 'string')
        throw tokenizerLoadError('expected { "name": string, "template": string }', `${location}[${i}]`);
      templates.set(name, template);
    });
    return templates;
  }
  throw tokenizerLoadError('expected a string or a list of { name, template }', location);
}

/**
 * The chat template of a checkpoint: an explicit one, else chat_template.jinja (which transformers
 * writes and prefers), else tokenizer_config.json's `chat_template`.
 */
async function readChatTemplateSource(
  dir: string,
  config: Record<string, unknown>,
  explicit: string | undefined,
): Promise<ChatTemplateSource | undefined> {
  if (explicit !== undefined)
    return { templates: new Map([['default', explicit]]), location: 'chat template option' };
  const file = await readOptionalText(dir, 'chat_template.jinja');
  if (file !== undefined)
    return { templates: new Map([['default', file]]), location: join(dir, 'chat_template.jinja') };
  const location = `${join(dir, 'tokenizer_config.json')}: chat_template`;
  const templates = chatTemplatesFromConfig(config.chat_template, location);
  return templates ? { templates, location } : undefined;
}

/**
 * Loads a checkpoint directory's tokenizer: tokenizer.json + tokenizer_config.json (+ chat_template.jinja,
 * + generation_config.json's EOS ids) through @huggingface/tokenizers and @huggingface/jinja, or — for a
 * directory without tokenizer.json — the byte-level tokenizer sized by config.json's `vocab_size`.
 * MODEL_LOAD_FAILED names the damaged file and field; NOT_FOUND a missing directory.
 */
export async function loadTokenizer(dir: string, options: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  const { logger = noopLogger, now = () => new Date(), ...rest } = options;
  const resolved = parseWithSchema(loadTokenizerOptionsSchema, rest, 'loadTokenizer options');
  const directory = resolve(dir);
  const info = await stat(directory).catch(() => undefined);
  if (!info)
    throw new TokenizerError({
      code: 'NOT_FOUND',
      message: `model directory not found: ${dir}`,
      location: directory,
    });
  if (!info.isDirectory())
    throw new TokenizerError({
      code: 'INVALID_INPUT',
      message: `not a directory: ${dir}`,
      location: directory,
    });
  const started = performance.now();
  const generation = await readOptionalJson(directory, 'generation_config.json');
  const generationEosIds =
    generation === undefined
      ? []
      : (parseGenerationConfig(generation, join(directory, 'generation_config.json')).eosTokenIds ?? []);
  const tokenizerJson = await readOptionalJson(directory, 'tokenizer.json');
  if (tokenizerJson === undefined) {
    const configLocation = join(directory, 'config.json');
    const config = await readOptionalJson(directory, 'config.json');
    if (config === undefined) {
      const hint =
        (await readOptionalText(directory, 'tokenizer.model')) !== undefined
          ? ' (it has only a SentencePiece tokenizer.model: convert it to tokenizer.json with transformers)'
          : '';
      throw tokenizerLoadError(
        `no tokenizer.json and no config.json: cannot tell the vocabulary${hint}`,
        directory,
      );
    }
    const vocabSize = requireObject(config, configLocation).vocab_size;
    const source = await readChatTemplateSource(directory, {}, resolved.chatTemplate);
    const template = source ? new ChatTemplate(source, { specialTokensMap: {}, now }) : undefined;
    logger.debug('byte-level tokenizer (no tokenizer.json)', { directory, vocabSize });
    return new ByteTokenizer(vocabSize as number, template, generationEosIds, configLocation);
  }
  const tokenizerLocation = join(directory, 'tokenizer.json');
  const configLocation = join(directory, 'tokenizer_config.json');
  const configRaw = await readOptionalJson(directory, 'tokenizer_config.json');
  const tokenizerConfig = configRaw === undefined ? {} : requireObject(configRaw, configLocation);
  const source = await readChatTemplateSource(directory, tokenizerConfig, resolved.chatTemplate);
  const { specialTokensMap } = readSpecialTokens(tokenizerConfig, configLocation);
  const template = source ? new ChatTemplate(source, { specialTokensMap, now }) : undefined;
  const tokenizer = new HubTokenizer(
    {
      tokenizerJson: requireObject(tokenizerJson, tokenizerLocation),
      tokenizerConfig,
      configLocation,
      tokenizerLocation,
    },
    template,
    generationEosIds,
  );
  logger.debug('tokenizer loaded', {
    directory,
    vocabSize: tokenizer.vocabSize,
    chatTemplate: source?.location,
    loadMs: Math.round(performance.now() - started),
  });
  return tokenizer;
}
