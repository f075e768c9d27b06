import { packageBuild } from '../../tooling/typescript/tsup.js';

// The own runner's process is started as its own file (`node dist/function-process.js`), so it is an
// entry of its own, next to the chunk that spawns it.
export default packageBuild(
  { index: 'src/index.ts', internal: 'src/internal.ts', 'function-process': 'src/function-process.ts' },
  { dts: { entry: { index: 'src/index.ts', internal: 'src/internal.ts' } }, clean: false },
);
