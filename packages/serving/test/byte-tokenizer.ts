import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTokenizer, type Tokenizer } from '@switchyard/tokenizer';

/**
 * The byte-level tokenizer a checkpoint without tokenizer files gets (ids = UTF-8 bytes), loaded the way
 * serving loads it: from a directory holding only config.json.
 */
export async function byteTokenizer(
  options: { vocabSize?: number; chatTemplate?: string } = {},
): Promise<Tokenizer> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-byte-tokenizer-'));
  try {
    await writeFile(join(dir, 'config.json'), JSON.stringify({ vocab_size: options.vocabSize ?? 256 }));
    return await loadTokenizer(dir, { chatTemplate: options.chatTemplate });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
