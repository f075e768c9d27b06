import { join } from 'node:path';
import { z } from 'zod';
import { tokenizerLoadError } from './errors.js';
import { readOptionalJson, requireObject } from './json-file.js';

/** generation_config.json's fields that serving uses (absent fields: the request's or the server's defaults). */
export interface GenerationConfig {
  /** `eos_token_id` (one id or several): any of them ends generation. */
  eosTokenIds?: number[];
  bosTokenId?: number;
  padTokenId?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  repetitionPenalty?: number;
  maxNewTokens?: number;
  doSample?: boolean;
}

const tokenId = z.number().int().nonnegative();
// null means "not set" in Hugging Face's files.
const optional = <T extends z.ZodType>(schema: T) => schema.nullable().optional();

const generationConfigSchema = z.looseObject({
  eos_token_id: optional(z.union([tokenId, z.array(tokenId)])),
  bos_token_id: optional(tokenId),
  pad_token_id: optional(tokenId),
  temperature: optional(z.number().nonnegative()),
  top_p: optional(z.number().gt(0).max(1)),
  top_k: optional(z.number().int().nonnegative()),
  repetition_penalty: optional(z.number().positive()),
  max_new_tokens: optional(z.number().int().positive()),
  do_sample: optional(z.boolean()),
});

/** Parses generation_config.json's contents; MODEL_LOAD_FAILED naming the first bad field. */
export function parseGenerationConfig(raw: unknown, location = 'generation_config.json'): GenerationConfig {
  const result = generationConfigSchema.safeParse(requireObject(raw, location));
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw tokenizerLoadError(issue.message, `${location}: ${issue.path.join('.')}`, result.error);
  }
  const fields = result.data;
  const config: GenerationConfig = {};
  if (fields.eos_token_id != null)
    config.eosTokenIds = Array.isArray(fields.eos_token_id)
      ? [...fields.eos_token_id]
      : [fields.eos_token_id];
  if (fields.bos_token_id != null) config.bosTokenId = fields.bos_token_id;
  if (fields.pad_token_id != null) config.padTokenId = fields.pad_token_id;
  if (fields.temperature != null) config.temperature = fields.temperature;
  if (fields.top_p != null) config.topP = fields.top_p;
  if (fields.top_k != null) config.topK = fields.top_k;
  if (fields.repetition_penalty != null) config.repetitionPenalty = fields.repetition_penalty;
  if (fields.max_new_tokens != null) config.maxNewTokens = fields.max_new_tokens;
  if (fields.do_sample != null) config.doSample = fields.do_sample;
  return config;
}

/** Reads a checkpoint's generation_config.json; a directory without one gives `{}`. */
export async function readGenerationConfig(dir: string): Promise<GenerationConfig> {
  const raw = await readOptionalJson(dir, 'generation_config.json');
  if (raw === undefined) return {};
  return parseGenerationConfig(raw, join(dir, 'generation_config.json'));
}
