/**
 * Hugging Face's `clean_up_tokenization_spaces` (tokenizer_config.json): removes the space a word-level
 * tokenizer left before punctuation and English contractions. The same replacements, in the same order,
 * as transformers' `PreTrainedTokenizerBase.clean_up_tokenization`.
 */
const replacements: ReadonlyArray<readonly [string, string]> = [
  [' .', '.'],
  [' ?', '?'],
  [' !', '!'],
  [' ,', ','],
  [" ' ", "'"],
  [" n't", "n't"],
  [" 'm", "'m"],
  [" 's", "'s"],
  [" 've", "'ve"],
  [" 're", "'re"],
];

export function cleanUpTokenizationSpaces(text: string): string {
  if (!text.includes(' ')) return text;
  let result = text;
  for (const [from, to] of replacements) result = result.replaceAll(from, to);
  return result;
}

/** Characters after a space that may make it part of a replacement (a space: an earlier one may join). */
const riskyAfterSpace = new Set(['.', '?', '!', ',', "'", 'n', ' ']);

/** Longest replacement pattern minus one: how far back a pattern crossing a cut can start. */
const lookBehind = Math.max(...replacements.map(([from]) => from.length)) - 1;

/**
 * Whether `cleanUpTokenizationSpaces(text.slice(0, cut)) + cleanUpTokenizationSpaces(text.slice(cut))`
 * equals the one-shot clean-up whatever text follows: every pattern starts with a space, is at most four
 * characters long and only ever removes spaces, so no match can cross the cut unless a space close before
 * it is followed by a character a pattern continues with (or by the end of the text known so far).
 */
function isSafeCut(text: string, cut: number): boolean {
  for (let i = Math.max(0, cut - lookBehind); i < cut; i++) {
    if (text[i] !== ' ') continue;
    const next = text[i + 1];
    if (next === undefined || riskyAfterSpace.has(next)) return false;
  }
  return true;
}

/**
 * Applies the clean-up to text arriving in pieces: returns what is certain now and holds back the few
 * characters a later piece could still change; `flush` returns the rest.
 */
export class CleanUpStream {
  private pending = '';

  push(text: string): string {
    this.pending += text;
    let cut = this.pending.length;
    while (cut > 0 && !isSafeCut(this.pending, cut)) cut--;
    if (cut === 0) return '';
    const ready = this.pending.slice(0, cut);
    this.pending = this.pending.slice(cut);
    return cleanUpTokenizationSpaces(ready);
  }

  flush(): string {
    const rest = cleanUpTokenizationSpaces(this.pending);
    this.pending = '';
    return rest;
  }
}
