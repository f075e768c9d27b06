import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // The function process is started as its own file (`node dist/function-process.js`), so it is an
    // entry of its own, next to the chunk that spawns it.
    entry: { index: 'src/index.ts', 'function-process': 'src/runtime/function-process.ts' },
    format: ['esm'],
    dts: { entry: { index: 'src/index.ts' } },
    clean: false,
    sourcemap: true,
    target: 'node20',
  },
  {
    // The Lambda handler bundle that goes into function zips: Switchyard code and zod inlined;
    // onnxruntime-node ships in the zip's node_modules and the AWS SDK comes with the Node 20 runtime.
    entry: { 'lambda/expert-function': 'src/handler/expert-function.ts' },
    format: ['esm'],
    outExtension: () => ({ js: '.mjs' }),
    noExternal: [/^@switchyard\//, 'zod'],
    external: ['onnxruntime-node', /^@aws-sdk\//],
    platform: 'node',
    // Inline core from its source: the bundle does not depend on core having been built first.
    esbuildOptions(options) {
      options.conditions = ['@switchyard/source', 'import', 'node'];
    },
    dts: false,
    clean: false,
    sourcemap: false,
    target: 'node20',
  },
]);
