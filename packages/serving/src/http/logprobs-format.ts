import type { Tokenizer } from '@switchyard/tokenizer';
import type { TokenLogprobs } from '../engine.js';
import type { ChatLogprobs } from './chat-schemas.js';
import type { CompletionLogprobs } from './schemas.js';

/** A token with its log-probabilities (null: none, the prompt's first token) and its offset in the text. */
export interface LoggedToken {
  id: number;
  logprobs?: TokenLogprobs | null | undefined;
  offset: number;
}

/** JSON has no -Infinity: a token the model rules out gets vLLM's floor instead. */
const logprobFloor = -9999;
const finite = (logprob: number): number => (logprob === Number.NEGATIVE_INFINITY ? logprobFloor : logprob);

/**
 * OpenAI's legacy completions logprobs: per token its text, log-probability, the top alternatives as a
 * text → log-probability map (with the chosen token, as vLLM and OpenAI give it) and its offset in the
 * choice's text.
 */
export function completionLogprobs(tokenizer: Tokenizer, tokens: readonly LoggedToken[]): CompletionLogprobs {
  const result: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  for (const token of tokens) {
    result.tokens.push(tokenizer.tokenText(token.id));
    result.text_offset.push(token.offset);
    const logprobs = token.logprobs;
    if (!logprobs) {
      result.token_logprobs.push(null);
      result.top_logprobs.push(null);
      continue;
    }
    result.token_logprobs.push(finite(logprobs.logprob));
    const top: Record<string, number> = {};
    for (const alternative of logprobs.top)
      top[tokenizer.tokenText(alternative.tokenId)] ??= finite(alternative.logprob);
    top[tokenizer.tokenText(logprobs.tokenId)] ??= finite(logprobs.logprob);
    result.top_logprobs.push(top);
  }
  return result;
}

const utf8 = new TextEncoder();

function chatEntry(tokenizer: Tokenizer, tokenId: number, logprob: number) {
  const token = tokenizer.tokenText(tokenId);
  return { token, logprob: finite(logprob), bytes: Array.from(utf8.encode(token)) };
}

/** Chat's logprobs content: per generated token its text, UTF-8 bytes, log-probability and top alternatives. */
export function chatLogprobs(
  tokenizer: Tokenizer,
  tokens: readonly { logprobs?: TokenLogprobs | undefined }[],
): NonNullable<ChatLogprobs['content']> {
  return tokens.flatMap(({ logprobs }) =>
    logprobs
      ? [
          {
            ...chatEntry(tokenizer, logprobs.tokenId, logprobs.logprob),
            top_logprobs: logprobs.top.map((alternative) =>
              chatEntry(tokenizer, alternative.tokenId, alternative.logprob),
            ),
          },
        ]
      : [],
  );
}

/**
 * Where each prompt token's text starts in the prompt's text, by decoding the ids one at a time
 * (special tokens skipped when the text is the prompt as the client sent it).
 */
export function promptOffsets(
  tokenizer: Tokenizer,
  ids: readonly number[],
  skipSpecialTokens: boolean,
): number[] {
  const stream = tokenizer.createDecodeStream({ skipSpecialTokens });
  const offsets: number[] = [];
  let length = 0;
  for (const id of ids) {
    offsets.push(length);
    length += stream.push(id).length;
  }
  return offsets;
}
