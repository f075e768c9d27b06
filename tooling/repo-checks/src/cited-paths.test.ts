import { afterAll, describe, expect, it } from 'vitest';
import { describeCitations, missingCitations } from './cited-paths.js';
import { writeTemporaryRepository } from './temporary-repository.js';
import { readWorkspace, repositoryRoot } from './workspace.js';

describe('the repository', () => {
  it('cites only files and directories it has', () => {
    expect(describeCitations(missingCitations(repositoryRoot, readWorkspace(repositoryRoot)))).toEqual([]);
  });
});

describe('missingCitations', () => {
  const repository = writeTemporaryRepository({
    'pnpm-workspace.yaml': 'packages:\n  - packages/*\n',
    '.gitignore': 'dist/\nbench-results/tmp/\n',
    'architecture/formats.md': '# Formats\n',
    'fixtures/profiles/small.json': '{}\n',
    'bench-results/planner.json': '{}\n',
    'packages/core/package.json': JSON.stringify({ name: '@switchyard/core' }),
    'packages/core/src/wire.ts': 'export const wire = 1;\n',
    'packages/core/src/index.ts': [
      "export { wire } from './wire.js';",
      '// Layout: architecture/formats.md; the old notes were in DESIGN.md and architecture/wire.md.',
      '// Profile: fixtures/profiles/small.json, fixtures/profiles/large.json (see formats.md).',
      '// Code: src/wire.ts and src/codec.ts; output: bench-results/tmp/run.json, dist/index.js.',
      '// Patterns are not citations: src/**/*.test.ts, packages/<name>/src/index.ts, src/wire-*.ts,',
      '// bench-results/tmp/run.{json,md}, fixtures/profiles/{small,large}.json.',
      "const outputs = [join(dir, 'summary.md'), 'gone.md is no file name', \"notes.md\"]; // see guide.md",
      '// https://example.com/packages/gone.md is a URL.',
    ].join('\n'),
    'architecture/core.md': [
      'The codec is `src/wire.ts`; the encoder was `src/encoder.ts`.',
      'See [formats](formats.md#header), [gone](./gone.md), [site](https://example.com/x.md), [top](#top).',
      'Results: `bench-results/planner.json`, `../outside.md`.',
    ].join('\n'),
    'README.md': 'Start at [the core page](architecture/core.md) and CONTRIBUTING.md.\n',
  });
  afterAll(() => repository.remove());
  const root = repository.root;

  it('reports each cited path that does not exist, with its file and line', () => {
    expect(describeCitations(missingCitations(root, readWorkspace(root)))).toEqual([
      'packages/core/src/index.ts:2 cites DESIGN.md, which does not exist',
      'packages/core/src/index.ts:2 cites architecture/wire.md, which does not exist',
      'packages/core/src/index.ts:3 cites fixtures/profiles/large.json, which does not exist',
      'packages/core/src/index.ts:4 cites src/codec.ts, which does not exist',
      'packages/core/src/index.ts:7 cites gone.md, which does not exist',
      'packages/core/src/index.ts:7 cites guide.md, which does not exist',
      'architecture/core.md:1 cites src/encoder.ts, which does not exist',
      'architecture/core.md:2 cites ./gone.md, which does not exist',
      'architecture/core.md:3 cites ../outside.md, which does not exist',
      'README.md:1 cites CONTRIBUTING.md, which does not exist',
    ]);
  });
});
