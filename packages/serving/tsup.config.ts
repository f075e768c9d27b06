import { packageBuild } from '../../tooling/typescript/tsup.js';

// Two entry points: the serving stack, and the HTTP layer both apps wire (`@switchyard/serving/http`).
export default packageBuild({ index: 'src/index.ts', 'http/index': 'src/http/index.ts' });
