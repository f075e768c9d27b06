import { packageBuild } from '../../tooling/typescript/tsup.js';

export default packageBuild(['src/index.ts']);
