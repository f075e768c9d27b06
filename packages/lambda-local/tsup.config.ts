import { packageBuild } from '../../tooling/typescript/tsup.js';

// The own runner's process is started as its own file (`node dist/function-process.js`), and every
// instance preloads `dist/parent-watch.js`, so both are entries of their own, next to the chunk that
// spawns them.
export default packageBuild(
  {
    index: 'src/index.ts',
    internal: 'src/internal.ts',
    'function-process': 'src/function-process.ts',
    'parent-watch': 'src/parent-watch.ts',
  },
  { dts: { entry: { index: 'src/index.ts', internal: 'src/internal.ts' } }, clean: false },
);
