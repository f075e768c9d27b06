import { packageBuild } from '../../tooling/typescript/tsup.js';

export default [
  packageBuild({ index: 'src/index.ts', internal: 'src/internal.ts' }, { clean: false }),
  // The Lambda handler bundle that goes into function zips: Switchyard code and zod inlined;
  // onnxruntime-node ships in the zip's node_modules and the AWS SDK comes with the Node runtime.
  packageBuild(
    { 'lambda/expert-function': 'src/lambda-handler.ts' },
    {
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
    },
  ),
];
