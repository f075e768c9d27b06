import { defineConfig } from 'tsup';

export default defineConfig({
  // Two entry points: the serving stack, and the HTTP layer both apps wire (`@switchyard/serving/http`).
  entry: { index: 'src/index.ts', 'http/index': 'src/http/index.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
});
