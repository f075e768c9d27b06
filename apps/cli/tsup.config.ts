import { packageBuild } from '../../tooling/typescript/tsup.js';

export default packageBuild(['src/main.ts'], { dts: false, banner: { js: '#!/usr/bin/env node' } });
