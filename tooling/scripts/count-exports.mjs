// Counts the names each package's entry point exports (values and types), for the public-surface
// figures in notes: node tooling/scripts/count-exports.mjs [root]
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? '.');
for (const group of ['packages', 'apps']) {
  const dir = join(root, group);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir).sort()) {
    const entry = join(dir, name, 'src/index.ts');
    if (!existsSync(entry)) continue;
    const source = readFileSync(entry, 'utf8');
    let values = 0;
    let types = 0;
    for (const match of source.matchAll(/export\s+(type\s+)?\{([^}]*)\}/g)) {
      for (const item of match[2]
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean)) {
        if (match[1] || item.startsWith('type ')) types++;
        else values++;
      }
    }
    console.log(`${group}/${name}\t${values + types}\t(${values} values, ${types} types)`);
  }
}
