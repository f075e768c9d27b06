import { basename } from 'node:path';
import { type Checkpoint, loadCheckpoint } from '../checkpoint.js';
import { ModelError } from '../errors.js';
import { type ExportGgufOptions, exportGgufOptionsSchema } from '../options.js';
import { type GgufWriteResult, writeGgufFile } from './gguf-writer.js';
import { llamaCppLayout } from './llama-cpp-layout.js';

export interface ExportGgufResult extends GgufWriteResult {
  /** GGUF `general.architecture` (`llama` for a Mixtral checkpoint). */
  architecture: string;
}

/**
 * Exports a checkpoint (a directory or a loaded `Checkpoint`) to a GGUF file laid out the way
 * llama.cpp loads that architecture, so llama.cpp can run the same weights. The file has no
 * tokenizer (`tokenizer.ggml.model` = "none"): feed token ids. Tensors are read and written one at a
 * time. Supported: mixtral; others throw UNSUPPORTED_ARCHITECTURE.
 */
export async function exportGguf(
  source: string | Checkpoint,
  outputPath: string,
  options: ExportGgufOptions = {},
): Promise<ExportGgufResult> {
  const parsed = exportGgufOptionsSchema.safeParse(options);
  if (!parsed.success)
    throw new ModelError({
      code: 'INVALID_INPUT',
      message: `invalid exportGguf options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      location: 'exportGguf options',
    });
  const checkpoint = typeof source === 'string' ? await loadCheckpoint(source) : source;
  const layout = llamaCppLayout(checkpoint, {
    tensorType: parsed.data.tensorType,
    name: parsed.data.name ?? basename(checkpoint.dir),
  });
  const written = await writeGgufFile(outputPath, layout.contents);
  return { ...written, architecture: layout.architecture };
}
