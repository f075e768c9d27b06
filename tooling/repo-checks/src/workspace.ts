/**
 * The repository as the checks see it: its workspace projects (pnpm-workspace.yaml's `dir/*` globs),
 * their manifests, and their files, walked from disk (so a file counts before it is committed) with
 * the root `.gitignore`'s simple patterns applied (`dist/`, `node_modules/`, `bench-results/tmp/`, …).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is tooling/repo-checks/src/workspace.ts). */
export const repositoryRoot = fileURLToPath(new URL('../../..', import.meta.url));

export type ProjectKind = 'package' | 'app' | 'tooling';

export interface PackageManifest {
  name: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

export interface WorkspaceProject {
  name: string;
  /** Relative to the repository root, `/`-separated: `packages/core`. */
  directory: string;
  /** From the top-level directory: packages/* are packages, apps/* apps, tooling/* tooling. */
  kind: ProjectKind;
  manifest: PackageManifest;
}

const kindOfTopDirectory: Record<string, ProjectKind> = {
  packages: 'package',
  apps: 'app',
  tooling: 'tooling',
};

/** Paths are compared `/`-separated and relative to the repository root. */
export function toRepositoryPath(root: string, absolute: string): string {
  return relative(root, absolute).split(sep).join('/');
}

export function readWorkspace(root: string = repositoryRoot): WorkspaceProject[] {
  const workspaceFile = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
  const globs = [...workspaceFile.matchAll(/^\s+-\s+["']?([\w./-]+)\/\*["']?\s*$/gm)].map(
    (match) => match[1]!,
  );
  if (globs.length === 0) throw new Error(`pnpm-workspace.yaml in ${root} lists no "dir/*" package globs`);
  const projects: WorkspaceProject[] = [];
  for (const glob of globs) {
    const kind = kindOfTopDirectory[glob.split('/')[0]!];
    if (!kind)
      throw new Error(`pnpm-workspace.yaml glob "${glob}/*" is not under packages/, apps/ or tooling/`);
    const parent = join(root, glob);
    if (!existsSync(parent)) continue;
    for (const entry of readdirSync(parent, { withFileTypes: true })) {
      const manifestPath = join(parent, entry.name, 'package.json');
      if (!entry.isDirectory() || !existsSync(manifestPath)) continue;
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as PackageManifest;
      projects.push({ name: manifest.name, directory: `${glob}/${entry.name}`, kind, manifest });
    }
  }
  return projects.sort((a, b) => a.directory.localeCompare(b.directory));
}

/** The project a repository path lies in, if any. */
export function projectOf(projects: readonly WorkspaceProject[], path: string): WorkspaceProject | undefined {
  return projects.find((project) => path === project.directory || path.startsWith(`${project.directory}/`));
}

/**
 * The root `.gitignore`'s patterns as a predicate over repository paths. Handles what that file uses:
 * `name/` and `name` (any path segment), `dir/sub/` (a path prefix), `*` inside a name.
 */
export function ignoredPaths(root: string = repositoryRoot): (path: string) => boolean {
  const file = join(root, '.gitignore');
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
  const segmentPatterns: RegExp[] = [];
  const prefixes: string[] = [];
  const globToRegExp = (glob: string) =>
    new RegExp(`^${glob.replace(/[.+?^$()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('!')) continue;
    const bare = line.replace(/^\//, '').replace(/\/$/, '');
    if (bare.includes('/')) prefixes.push(`${bare}/`);
    else segmentPatterns.push(globToRegExp(bare));
  }
  return (path) =>
    prefixes.some((prefix) => `${path}/`.startsWith(prefix)) ||
    path.split('/').some((segment) => segmentPatterns.some((pattern) => pattern.test(segment)));
}

/** Files under `directory` (repository paths) whose names end with one of `extensions`, ignored paths left out. */
export function listFiles(root: string, directory: string, extensions: readonly string[]): string[] {
  const isIgnored = ignoredPaths(root);
  const files: string[] = [];
  const walk = (path: string) => {
    for (const entry of readdirSync(join(root, path), { withFileTypes: true })) {
      const child = path ? `${path}/${entry.name}` : entry.name;
      if (entry.name === '.git' || isIgnored(child)) continue;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile() && extensions.some((extension) => entry.name.endsWith(extension)))
        files.push(child);
    }
  };
  if (existsSync(join(root, directory))) walk(directory);
  return files.sort();
}
