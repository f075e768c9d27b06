import { fileURLToPath } from 'node:url';
import type { MoeModel } from '@switchyard/model';

/** The repository's bundled trained model and its routing traces. */
export const bundledModelDir = fileURLToPath(
  new URL('../../../fixtures/checkpoints/shakespeare-mixtral-8x2', import.meta.url),
);
export const bundledTracesDir = fileURLToPath(
  new URL('../../../fixtures/traces/shakespeare-mixtral-8x2', import.meta.url),
);

/** What the model generates for `prompt` alone, greedily: the reference a served completion must equal. */
export async function generateAlone(model: MoeModel, prompt: string, maxNewTokens: number): Promise<string> {
  const [alone] = await model.generate([Array.from(new TextEncoder().encode(prompt))], {
    maxNewTokens,
    greedy: true,
  });
  return new TextDecoder().decode(Uint8Array.from(alone!.tokens));
}
