/**
 * Which workspace project may use which, read from every package.json's dependency fields and every
 * source file's import specifiers. architecture/overview.md states the same rules; dependency-rules.test.ts
 * fails on any use that breaks them.
 *
 * A use is at run time when it ships: `dependencies`, `peerDependencies`, `optionalDependencies`, and
 * imports in source files that are not tests. It is at test time for `devDependencies` and imports in
 * tests (`*.test.ts`, `*.test-d.ts`, a test directory), benchmarks and dev scripts (bench and scripts
 * directories) and a project's config files (`vitest.config.ts`, `tsup.config.ts`).
 */
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import ts from 'typescript';
import { listFiles, projectOf, type WorkspaceProject } from './workspace.js';

/**
 * The packages' layers, lowest first. At run time a package uses only packages of lower layers; tests
 * may also use packages of their own layer. Names of packages that do not exist (yet) are fine here; a
 * package missing from this table is a violation, so a new package's place is a decision.
 */
export const packageLayers: readonly (readonly string[])[] = [
  ['@switchyard/core'],
  ['@switchyard/model', '@switchyard/predictor', '@switchyard/cost-model', '@switchyard/tokenizer'],
  ['@switchyard/optimizer'],
  ['@switchyard/scatter-gather', '@switchyard/expert-function', '@switchyard/lambda-local'],
  ['@switchyard/lambda-executor'],
  ['@switchyard/serving'],
];

/**
 * Test-time uses of a higher layer (consumer → packages), each a decision with its reason in a comment.
 * Nothing here ships. None today: scatter-gather's integration tests, which used lambda-executor, use
 * lambda-local (their own layer) since the split.
 */
export const upwardTestUses: Readonly<Record<string, readonly string[]>> = {};

/** Projects that may be used only at test or build time (devDependencies, tests, config files). */
export const testOnlyProjects: readonly string[] = [
  '@switchyard/testing',
  '@switchyard/tsconfig',
  '@switchyard/repo-checks',
];

/** Uses the layers would allow but the architecture forbids at run time. */
export const forbiddenRuntimeUses: readonly { from: string; to: string; why: string }[] = [
  {
    from: '@switchyard/scatter-gather',
    to: '@switchyard/model',
    why: 'the MoE seam it needs is in @switchyard/core; model would pull onnxruntime-node into every dispatcher',
  },
];

/**
 * Files a package may import from another project by relative path: the build preset, which tsup.config.ts
 * files import by path because tsup bundles them with esbuild and leaves package imports to Node.
 */
export const sharedByPath: readonly string[] = ['tooling/typescript/tsup.ts'];

export type UseTime = 'run' | 'test';

/** One project using another: a dependency field or an import specifier. */
export interface Use {
  from: string;
  to: string;
  time: UseTime;
  /** `packages/optimizer/package.json (dependencies)` or `packages/optimizer/src/index.ts`. */
  where: string;
  /** The import specifier, for imports. */
  specifier?: string;
}

const runtimeFields = ['dependencies', 'peerDependencies', 'optionalDependencies'] as const;
const sourceExtensions = ['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs'];

/** Whether a file (path inside its project) is test-time: tests, benchmarks, dev scripts, config files. */
export function isTestTimeFile(pathInProject: string): boolean {
  return (
    /\.test(-d)?\.[cm]?[jt]sx?$/.test(pathInProject) ||
    /(^|\/)(test|tests|bench|scripts)\//.test(pathInProject) ||
    /^[^/]+\.config\.[cm]?[jt]s$/.test(pathInProject)
  );
}

/** The workspace project a specifier names (`@switchyard/x` or `@switchyard/x/sub`), and the subpath. */
function workspaceTarget(projects: readonly WorkspaceProject[], specifier: string) {
  for (const project of projects) {
    if (specifier === project.name) return { project, subpath: '' };
    if (specifier.startsWith(`${project.name}/`))
      return { project, subpath: specifier.slice(project.name.length + 1) };
  }
  return undefined;
}

export interface CollectedUses {
  uses: Use[];
  /** Imports that reach into another project's files instead of going through its package name. */
  reachIns: string[];
}

/** Reads every project's manifest and source files into uses of other workspace projects. */
export function collectUses(root: string, projects: readonly WorkspaceProject[]): CollectedUses {
  const uses: Use[] = [];
  const reachIns: string[] = [];
  const names = new Set(projects.map((project) => project.name));
  for (const project of projects) {
    const manifestPath = `${project.directory}/package.json`;
    for (const field of [...runtimeFields, 'devDependencies'] as const) {
      for (const name of Object.keys(project.manifest[field] ?? {})) {
        if (!names.has(name) || name === project.name) continue;
        const time: UseTime = field === 'devDependencies' ? 'test' : 'run';
        uses.push({ from: project.name, to: name, time, where: `${manifestPath} (${field})` });
      }
    }
    for (const file of listFiles(root, project.directory, sourceExtensions)) {
      const pathInProject = file.slice(project.directory.length + 1);
      const time: UseTime = isTestTimeFile(pathInProject) ? 'test' : 'run';
      const source = readFileSync(join(root, file), 'utf8');
      for (const { fileName: specifier } of ts.preProcessFile(source, true, true).importedFiles) {
        if (specifier.startsWith('.')) {
          const target = posix.normalize(posix.join(posix.dirname(file), specifier));
          const owner = projectOf(projects, target);
          const shared = sharedByPath.some(
            (path) => target === path || target === path.replace(/\.ts$/, '.js'),
          );
          if (owner && owner !== project && !shared) {
            reachIns.push(
              `${file} imports '${specifier}', a file of ${owner.name} (${owner.directory}): import the package by name (add an export or an ./internal entry)`,
            );
          }
          continue;
        }
        const target = workspaceTarget(projects, specifier);
        if (!target || target.project === project) continue;
        if (/^(src|test|bench|scripts)(\/|$)/.test(target.subpath)) {
          reachIns.push(
            `${file} imports '${specifier}': that is ${target.project.name}'s ${target.subpath.split('/')[0]}/, not its public entry`,
          );
        }
        uses.push({ from: project.name, to: target.project.name, time, where: file, specifier });
      }
    }
  }
  return { uses, reachIns };
}

function layerOf(name: string): number | undefined {
  const index = packageLayers.findIndex((layer) => layer.includes(name));
  return index < 0 ? undefined : index;
}

const describeUse = (use: Use) =>
  use.specifier ? `${use.where} imports '${use.specifier}'` : `${use.where} lists ${use.to}`;

/** Every use that breaks a rule, as one line each naming the file and the rule. */
export function checkUses(
  projects: readonly WorkspaceProject[],
  uses: readonly Use[],
  upward: Readonly<Record<string, readonly string[]>> = upwardTestUses,
): string[] {
  const byName = new Map(projects.map((project) => [project.name, project]));
  const violations: string[] = [];
  const unplaced = new Set<string>();
  for (const project of projects) {
    if (project.kind === 'package' && layerOf(project.name) === undefined) unplaced.add(project.name);
  }
  for (const name of unplaced) {
    violations.push(
      `${byName.get(name)!.directory}: ${name} has no layer: add it to packageLayers (tooling/repo-checks/src/dependency-rules.ts) and architecture/overview.md`,
    );
  }
  for (const use of uses) {
    const from = byName.get(use.from);
    const to = byName.get(use.to);
    if (!from || !to || from === to) continue;
    const at = describeUse(use);
    if (to.kind === 'app') {
      violations.push(
        from.kind === 'app'
          ? `${at}: an app never uses another app (move what both need into a package)`
          : `${at}: a ${from.kind === 'package' ? 'package' : 'tooling project'} never uses an app`,
      );
      continue;
    }
    if (use.time === 'run' && testOnlyProjects.includes(to.name)) {
      violations.push(
        `${at}: ${to.name} is for tests and builds only (devDependencies, test files, config files)`,
      );
      continue;
    }
    if (use.time === 'run') {
      const forbidden = forbiddenRuntimeUses.find((rule) => rule.from === from.name && rule.to === to.name);
      if (forbidden) {
        violations.push(`${at}: ${from.name} never uses ${to.name} at run time (${forbidden.why})`);
        continue;
      }
    }
    if (use.specifier) {
      const manifest = from.manifest;
      const declaredAtRun = runtimeFields.some((field) => to.name in (manifest[field] ?? {}));
      const declared = declaredAtRun || to.name in (manifest.devDependencies ?? {});
      if (use.time === 'run' && !declaredAtRun) {
        violations.push(
          `${at}: a run-time import needs ${to.name} in ${from.directory}/package.json's dependencies${declared ? ' (it is only a devDependency)' : ''}`,
        );
      } else if (!declared) {
        violations.push(
          `${at}: ${to.name} is not declared in ${from.directory}/package.json (devDependencies for tests)`,
        );
      }
    }
    if (from.kind !== 'package' || to.kind !== 'package') continue;
    const fromLayer = layerOf(from.name);
    const toLayer = layerOf(to.name);
    if (fromLayer === undefined || toLayer === undefined) continue; // reported once above
    if (use.time === 'run' && toLayer >= fromLayer) {
      violations.push(
        `${at}: at run time a package uses only lower layers; ${to.name} is layer ${toLayer}, ${from.name} layer ${fromLayer}`,
      );
    } else if (use.time === 'test' && toLayer > fromLayer && !upward[from.name]?.includes(to.name)) {
      violations.push(
        `${at}: tests use their own or lower layers; ${to.name} is layer ${toLayer}, ${from.name} layer ${fromLayer} (an exception goes in upwardTestUses with its reason)`,
      );
    }
  }
  return violations;
}

/** All violations in the repository at `root`. */
export function dependencyViolations(root: string, projects: readonly WorkspaceProject[]): string[] {
  const { uses, reachIns } = collectUses(root, projects);
  return [...checkUses(projects, uses), ...reachIns];
}
