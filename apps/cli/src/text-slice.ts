import { readFile } from 'node:fs/promises';
import { SwitchyardError } from '@switchyard/core';

/**
 * Bytes `[start, start + length)` of a text file, the token ids of a byte-level model (UTF-8 bytes);
 * NOT_FOUND / INVALID_INPUT naming the file or flag.
 */
export async function readTextSlice(path: string, start: number, length?: number): Promise<Uint8Array> {
  let text: Uint8Array;
  try {
    text = await readFile(path);
  } catch (error) {
    throw new SwitchyardError({
      code: 'NOT_FOUND',
      message: `cannot read text: ${(error as Error).message}`,
      location: path,
      cause: error,
    });
  }
  if (start >= text.length)
    throw new SwitchyardError({
      code: 'INVALID_INPUT',
      message: `--start ${start} is past the end of the text (${text.length} bytes)`,
      location: '--start',
    });
  return text.subarray(start, length === undefined ? undefined : start + length);
}

/** INVALID_INPUT unless the model's vocabulary holds byte tokens (the CLI's tokenizer is byte-level). */
export function requireByteVocabulary(vocabSize: number, dir: string): void {
  if (vocabSize < 256)
    throw new SwitchyardError({
      code: 'INVALID_INPUT',
      message: `vocabulary of ${vocabSize} cannot hold byte tokens; this command supports byte-level models only`,
      location: dir,
    });
}
