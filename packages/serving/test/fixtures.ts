import { fileURLToPath } from 'node:url';

/** The repository's bundled trained model and its routing traces. */
export const bundledModelDir = fileURLToPath(
  new URL('../../../fixtures/checkpoints/shakespeare-mixtral-8x2', import.meta.url),
);
export const bundledTracesDir = fileURLToPath(
  new URL('../../../fixtures/traces/shakespeare-mixtral-8x2', import.meta.url),
);
