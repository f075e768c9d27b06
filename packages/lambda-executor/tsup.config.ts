import { defineConfig } from 'tsup';

export default defineConfig({
  // The function process is started as its own file (`node dist/function-process.js`), so it is an
  // entry of its own, next to the chunk that spawns it.
  entry: { index: 'src/index.ts', 'function-process': 'src/runtime/function-process.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  clean: true,
  sourcemap: true,
  target: 'node20',
});
