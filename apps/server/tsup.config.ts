import { packageBuild } from '../../tooling/typescript/tsup.js';

export default packageBuild(['src/index.ts', 'src/main.ts'], { dts: { entry: 'src/index.ts' } });
