import type { DecodeStream } from '@switchyard/tokenizer';

/**
 * Turns generated token ids into text that is safe to send: the tokenizer's decode stream holds
 * characters whose bytes are still incomplete (and gets spaces right across tokens), and text that
 * might be the start of a stop sequence is held here until it is known not to be one, so a stop
 * sequence never reaches the client (OpenAI semantics).
 */
export class TextAssembler {
  private readonly stop: readonly string[];
  private held = '';
  private stopped = false;

  constructor(
    private readonly decoder: DecodeStream,
    stop: readonly string[] = [],
  ) {
    this.stop = stop.filter((sequence) => sequence.length > 0);
  }

  /** Adds one token; returns the text that can be emitted now and whether a stop sequence was hit. */
  push(tokenId: number): { text: string; stopped: boolean } {
    if (this.stopped) return { text: '', stopped: true };
    this.held += this.decoder.push(tokenId);
    let stopAt = -1;
    for (const sequence of this.stop) {
      const index = this.held.indexOf(sequence);
      if (index >= 0 && (stopAt < 0 || index < stopAt)) stopAt = index;
    }
    if (stopAt >= 0) {
      this.stopped = true;
      const text = this.held.slice(0, stopAt);
      this.held = '';
      return { text, stopped: true };
    }
    const keep = this.longestStopPrefixSuffix();
    const text = this.held.slice(0, this.held.length - keep);
    this.held = this.held.slice(this.held.length - keep);
    return { text, stopped: false };
  }

  /**
   * Flushes what is held at the end of generation (an incomplete character becomes U+FFFD, as the
   * one-shot decode gives). A stop sequence completed only by the flushed text still cuts it.
   */
  finish(): string {
    if (this.stopped) return '';
    const text = this.held + this.decoder.flush();
    this.held = '';
    this.stopped = true;
    let stopAt = -1;
    for (const sequence of this.stop) {
      const index = text.indexOf(sequence);
      if (index >= 0 && (stopAt < 0 || index < stopAt)) stopAt = index;
    }
    return stopAt >= 0 ? text.slice(0, stopAt) : text;
  }

  private longestStopPrefixSuffix(): number {
    let longest = 0;
    for (const sequence of this.stop) {
      const max = Math.min(sequence.length - 1, this.held.length);
      for (let length = max; length > longest; length--) {
        if (this.held.endsWith(sequence.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}
