import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeCitations, missingCitations } from './cited-paths.js';
import { readWorkspace, repositoryRoot } from './workspace.js';

describe('the repository', () => {
  it('cites only files and directories it has', () => {
    expect(describeCitations(missingCitations(repositoryRoot, readWorkspace(repositoryRoot)))).toEqual([]);
  });
});

describe('missingCitations', () => {
  const root = mkdtempSync(join(tmpdir(), 'cited-paths-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  write('pnpm-workspace.yaml', 'packages:\n  - packages/*\n');
  write('.gitignore', 'dist/\nbench-results/tmp/\n');
  write('architecture/formats.md', '# Formats\n');
  write('fixtures/profiles/small.json', '{}\n');
  write('bench-results/planner.json', '{}\n');
  write('packages/core/package.json', JSON.stringify({ name: '@switchyard/core' }));
  write('packages/core/src/wire.ts', 'export const wire = 1;\n');
  write(
    'packages/core/src/index.ts',
    [
      "export { wire } from './wire.js';",
      '// Layout: architecture/formats.md; the old notes were in DESIGN.md and architecture/wire.md.',
      '// Profile: fixtures/profiles/small.json, fixtures/profiles/large.json (see formats.md).',
      '// Code: src/wire.ts and src/codec.ts; output: bench-results/tmp/run.json, dist/index.js.',
      '// Patterns are not citations: src/**/*.test.ts, packages/<name>/src/index.ts.',
      '// https://example.com/packages/gone.md is a URL.',
    ].join('\n'),
  );
  write(
    'architecture/core.md',
    [
      'The codec is `src/wire.ts`; the encoder was `src/encoder.ts`.',
      'See [formats](formats.md#header), [gone](./gone.md), [site](https://example.com/x.md), [top](#top).',
      'Results: `bench-results/planner.json`, `../outside.md`.',
    ].join('\n'),
  );
  write('README.md', 'Start at [the core page](architecture/core.md) and CONTRIBUTING.md.\n');

  it('reports each cited path that does not exist, with its file and line', () => {
    expect(describeCitations(missingCitations(root, readWorkspace(root)))).toEqual([
      'packages/core/src/index.ts:2 cites DESIGN.md, which does not exist',
      'packages/core/src/index.ts:2 cites architecture/wire.md, which does not exist',
      'packages/core/src/index.ts:3 cites fixtures/profiles/large.json, which does not exist',
      'packages/core/src/index.ts:4 cites src/codec.ts, which does not exist',
      'architecture/core.md:1 cites src/encoder.ts, which does not exist',
      'architecture/core.md:2 cites ./gone.md, which does not exist',
      'architecture/core.md:3 cites ../outside.md, which does not exist',
      'README.md:1 cites CONTRIBUTING.md, which does not exist',
    ]);
  });
});
