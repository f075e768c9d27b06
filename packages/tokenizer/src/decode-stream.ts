import { CleanUpStream } from './clean-up-spaces.js';
import type { DecodeStream } from './tokenizer.js';

/** Decodes a run of ids without the clean-up of spaces (a tokenizer's raw decode). */
export type RawDecode = (ids: readonly number[]) => string;

const replacementCharacter = '\uFFFD';

/**
 * Incremental detokenisation over a raw decode. Each push decodes a short window — the ids since the
 * last emitted chunk's start (`prefixStart`) — and emits what that window adds beyond its emitted part
 * (`readStart`). The window keeps one earlier token as context, so decoders that treat the first token
 * of a text differently (SentencePiece's leading space) give the same text as the one-shot decode; a
 * window whose text ends in U+FFFD holds a character still missing bytes and waits for the next id.
 * Texts are then cleaned up in pieces when the tokenizer cleans up spaces.
 */
export function createWindowDecodeStream(decode: RawDecode, cleanUp: boolean): DecodeStream {
  const ids: number[] = [];
  let prefixStart = 0;
  let readStart = 0;
  const cleaner = cleanUp ? new CleanUpStream() : undefined;
  const emit = (text: string): string => (cleaner ? cleaner.push(text) : text);
  return {
    push(id) {
      ids.push(id);
      const prefixText = decode(ids.slice(prefixStart, readStart));
      const windowText = decode(ids.slice(prefixStart));
      if (windowText.length <= prefixText.length || windowText.endsWith(replacementCharacter)) return '';
      const added = windowText.slice(prefixText.length);
      prefixStart = readStart;
      readStart = ids.length;
      // Ids before the window never change what the window decodes to: drop them.
      ids.splice(0, prefixStart);
      readStart -= prefixStart;
      prefixStart = 0;
      return emit(added);
    },
    flush() {
      const prefixText = decode(ids.slice(prefixStart, readStart));
      const windowText = decode(ids.slice(prefixStart));
      const rest = windowText.length > prefixText.length ? windowText.slice(prefixText.length) : '';
      ids.length = 0;
      prefixStart = 0;
      readStart = 0;
      const tail = rest === '' ? '' : emit(rest);
      return cleaner ? tail + cleaner.flush() : tail;
    },
  };
}
