// Prints the value exports of a package entry point as the union a `*.test-d.ts` pins, e.g.
//   node --conditions=@switchyard/source --import tsx tooling/scripts/api-surface.ts packages/core/src/index.ts
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const entry = process.argv[2];
if (!entry) {
  console.error('usage: api-surface.ts <path to src/index.ts>');
  process.exit(2);
}
const api = (await import(pathToFileURL(resolve(entry)).href)) as Record<string, unknown>;
const names = Object.keys(api).sort();
console.log(`${names.length} value exports`);
console.log(names.map((name) => `    | '${name}'`).join('\n'));
