import { afterAll, describe, expect, it } from 'vitest';
import {
  checkUses,
  collectUses,
  dependencyViolations,
  isTestTimeFile,
  type Use,
} from './dependency-rules.js';
import { writeTemporaryRepository } from './temporary-repository.js';
import {
  type PackageManifest,
  type ProjectKind,
  readWorkspace,
  repositoryRoot,
  type WorkspaceProject,
} from './workspace.js';

describe('the repository', () => {
  it('follows the dependency rules (architecture/overview.md)', () => {
    expect(dependencyViolations(repositoryRoot, readWorkspace(repositoryRoot))).toEqual([]);
  });
});

function project(
  name: string,
  kind: ProjectKind,
  manifest: Omit<PackageManifest, 'name'> = {},
): WorkspaceProject {
  const short = name.replace('@switchyard/', '');
  const top = kind === 'package' ? 'packages' : kind === 'app' ? 'apps' : 'tooling';
  return { name, kind, directory: `${top}/${short}`, manifest: { name, ...manifest } };
}

const dependency = (from: string, to: string, time: Use['time'] = 'run'): Use => ({
  from,
  to,
  time,
  where: `${from} package.json`,
});

describe('checkUses', () => {
  const projects = [
    project('@switchyard/core', 'package'),
    project('@switchyard/model', 'package'),
    project('@switchyard/cost-model', 'package'),
    project('@switchyard/optimizer', 'package'),
    project('@switchyard/scatter-gather', 'package', {
      devDependencies: { '@switchyard/model': 'workspace:^' },
    }),
    project('@switchyard/lambda-executor', 'package'),
    project('@switchyard/serving', 'package'),
    project('@switchyard/cli', 'app'),
    project('@switchyard/server', 'app'),
    project('@switchyard/testing', 'tooling'),
  ];

  it('allows run-time uses of lower layers and apps using packages', () => {
    expect(
      checkUses(projects, [
        dependency('@switchyard/optimizer', '@switchyard/cost-model'),
        dependency('@switchyard/serving', '@switchyard/core'),
        dependency('@switchyard/cli', '@switchyard/serving'),
        dependency('@switchyard/server', '@switchyard/testing', 'test'),
      ]),
    ).toEqual([]);
  });

  it('rejects an app using another app, at run time and in tests', () => {
    const violations = checkUses(projects, [
      dependency('@switchyard/cli', '@switchyard/server'),
      dependency('@switchyard/cli', '@switchyard/server', 'test'),
    ]);
    expect(violations).toHaveLength(2);
    expect(violations[0]).toContain('an app never uses another app');
  });

  it('rejects a package or a tooling project using an app', () => {
    const violations = checkUses(projects, [
      dependency('@switchyard/serving', '@switchyard/server', 'test'),
      dependency('@switchyard/testing', '@switchyard/cli'),
    ]);
    expect(violations).toEqual([
      expect.stringContaining('a package never uses an app'),
      expect.stringContaining('a tooling project never uses an app'),
    ]);
  });

  it('rejects scatter-gather using model at run time, allows it in tests', () => {
    expect(checkUses(projects, [dependency('@switchyard/scatter-gather', '@switchyard/model')])).toEqual([
      expect.stringContaining('never uses @switchyard/model at run time'),
    ]);
    const testImport: Use = {
      ...dependency('@switchyard/scatter-gather', '@switchyard/model', 'test'),
      specifier: '@switchyard/model',
    };
    expect(checkUses(projects, [testImport])).toEqual([]);
  });

  it('rejects run-time uses of the same or a higher layer', () => {
    expect(
      checkUses(projects, [
        dependency('@switchyard/cost-model', '@switchyard/model'),
        dependency('@switchyard/core', '@switchyard/optimizer'),
      ]),
    ).toEqual([
      expect.stringContaining('at run time a package uses only lower layers'),
      expect.stringContaining('at run time a package uses only lower layers'),
    ]);
  });

  it('lets tests use their own layer, and a higher one only when listed', () => {
    const upward = dependency('@switchyard/scatter-gather', '@switchyard/lambda-executor', 'test');
    expect(checkUses(projects, [dependency('@switchyard/cost-model', '@switchyard/model', 'test')])).toEqual(
      [],
    );
    expect(checkUses(projects, [upward])).toEqual([
      expect.stringContaining('tests use their own or lower layers'),
    ]);
    expect(
      checkUses(projects, [upward], { '@switchyard/scatter-gather': ['@switchyard/lambda-executor'] }),
    ).toEqual([]);
    expect(checkUses(projects, [dependency('@switchyard/model', '@switchyard/serving', 'test')])).toEqual([
      expect.stringContaining('tests use their own or lower layers'),
    ]);
  });

  it('keeps the testing package out of run time', () => {
    expect(checkUses(projects, [dependency('@switchyard/serving', '@switchyard/testing')])).toEqual([
      expect.stringContaining('is for tests and builds only'),
    ]);
  });

  it('asks for a layer for a package the table does not place', () => {
    expect(checkUses([...projects, project('@switchyard/brand-new', 'package')], [])).toEqual([
      expect.stringContaining('@switchyard/brand-new has no layer'),
    ]);
  });

  it('requires imports to be declared: run-time imports as dependencies', () => {
    const runtimeImport: Use = {
      from: '@switchyard/scatter-gather',
      to: '@switchyard/core',
      time: 'run',
      where: 'packages/scatter-gather/src/dispatch.ts',
      specifier: '@switchyard/core',
    };
    expect(checkUses(projects, [runtimeImport])).toEqual([
      expect.stringContaining(
        "needs @switchyard/core in packages/scatter-gather/package.json's dependencies",
      ),
    ]);
  });
});

describe('collectUses', () => {
  const repository = writeTemporaryRepository({
    'pnpm-workspace.yaml': 'packages:\n  - packages/*\n  - apps/*\n',
    '.gitignore': 'dist/\n',
    'packages/core/package.json': JSON.stringify({ name: '@switchyard/core' }),
    'packages/core/src/index.ts': 'export const one = 1;\n',
    'packages/optimizer/package.json': JSON.stringify({
      name: '@switchyard/optimizer',
      dependencies: { '@switchyard/core': 'workspace:^', zod: '4' },
      devDependencies: { '@switchyard/model': 'workspace:^' },
    }),
    'packages/optimizer/src/plan.ts': [
      "import { one } from '@switchyard/core';",
      "import type { Two } from '../../core/src/index.js';",
      "export { three } from '@switchyard/core/src/three.js';",
      "const lazy = () => import('@switchyard/model');",
      '// import { ignored } from "@switchyard/server";',
      'export const x = one;',
    ].join('\n'),
    'packages/optimizer/src/plan.test.ts': "import { x } from './plan.js';\nimport '@switchyard/model';\n",
    'packages/optimizer/dist/index.js': "import '@switchyard/server';\n",
    'packages/model/package.json': JSON.stringify({ name: '@switchyard/model' }),
    'apps/server/package.json': JSON.stringify({ name: '@switchyard/server' }),
  });
  afterAll(() => repository.remove());
  const root = repository.root;

  it('reads dependency fields and imports, by file kind, skipping ignored outputs and comments', () => {
    const { uses, reachIns } = collectUses(root, readWorkspace(root));
    expect(uses.map((use) => `${use.where} ${use.time} ${use.to}`)).toEqual([
      'packages/optimizer/package.json (dependencies) run @switchyard/core',
      'packages/optimizer/package.json (devDependencies) test @switchyard/model',
      'packages/optimizer/src/plan.test.ts test @switchyard/model',
      'packages/optimizer/src/plan.ts run @switchyard/core',
      'packages/optimizer/src/plan.ts run @switchyard/core',
      'packages/optimizer/src/plan.ts run @switchyard/model',
    ]);
    expect(reachIns).toEqual([
      expect.stringContaining(
        "packages/optimizer/src/plan.ts imports '../../core/src/index.js', a file of @switchyard/core",
      ),
      expect.stringContaining("imports '@switchyard/core/src/three.js': that is @switchyard/core's src/"),
    ]);
    const violations = dependencyViolations(root, readWorkspace(root));
    expect(violations).toContain(
      "packages/optimizer/src/plan.ts imports '@switchyard/model': a run-time import needs @switchyard/model in packages/optimizer/package.json's dependencies (it is only a devDependency)",
    );
  });

  it('tells test-time files from run-time ones', () => {
    expect(
      [
        'src/a.ts',
        'src/a.test.ts',
        'src/index.test-d.ts',
        'test/b.ts',
        'bench/c.ts',
        'scripts/d.ts',
        'tsup.config.ts',
        'src/x.config.ts',
      ].map(isTestTimeFile),
    ).toEqual([false, true, true, true, true, true, true, false]);
  });
});
