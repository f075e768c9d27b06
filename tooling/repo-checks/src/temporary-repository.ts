import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * A small repository in a temporary directory, for the checks' own tests: `files` maps repository
 * paths to their text. `remove()` deletes it.
 */
export function writeTemporaryRepository(files: Readonly<Record<string, string>>): {
  root: string;
  remove: () => void;
} {
  const root = mkdtempSync(join(tmpdir(), 'switchyard-repo-checks-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}
