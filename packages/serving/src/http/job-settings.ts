import type { CompletionJob } from '../engine.js';

/** Most sequences one request may start (prompts × `n`). */
export const maxChoicesPerRequest = 64;

/** The request fields `/v1/completions` and `/v1/chat/completions` share (see `generationFields`). */
export interface GenerationRequestFields {
  temperature?: number | null | undefined;
  top_p?: number | null | undefined;
  top_k?: number | null | undefined;
  repetition_penalty?: number | null | undefined;
  seed?: number | null | undefined;
  stop?: string | string[] | null | undefined;
  stop_token_ids?: number[] | null | undefined;
  skip_special_tokens?: boolean | null | undefined;
}

/** Spreads seeds of a request's choices apart (choice 0 keeps the request's seed). */
const seedStride = 0x9e3779b9;

/**
 * The sampling and stopping settings of one choice's job. Fields the request leaves out stay undefined,
 * so the engine takes generation_config.json's value; `top_k` -1 (vLLM's "off") is 0.
 */
export function jobSettings(
  body: GenerationRequestFields,
  choice: number,
): Pick<
  CompletionJob,
  | 'temperature'
  | 'topP'
  | 'topK'
  | 'repetitionPenalty'
  | 'seed'
  | 'stop'
  | 'stopTokenIds'
  | 'skipSpecialTokens'
> {
  return {
    temperature: body.temperature ?? undefined,
    topP: body.top_p ?? undefined,
    topK: body.top_k === undefined || body.top_k === null ? undefined : Math.max(0, body.top_k),
    repetitionPenalty: body.repetition_penalty ?? undefined,
    seed: body.seed === undefined || body.seed === null ? undefined : (body.seed + choice * seedStride) >>> 0,
    stop: body.stop === undefined || body.stop === null ? [] : [body.stop].flat(),
    stopTokenIds: body.stop_token_ids ?? undefined,
    skipSpecialTokens: body.skip_special_tokens ?? true,
  };
}
