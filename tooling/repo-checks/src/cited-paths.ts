/**
 * Finds the repository paths that sources and docs cite and reports the ones that do not exist.
 * cited-paths.test.ts runs it over packages/, apps/, tooling/, architecture/, README.md and CONTRIBUTING.md.
 *
 * What counts as a citation (URLs are removed first):
 *  - a path from the repository root: `architecture/formats.md`, `fixtures/…`, `packages/core/src/index.ts`,
 *    … (any top-level file or directory of the repository followed by `/`);
 *  - a path from a project's root, `src/…`, `test/…`, `bench/…` or `scripts/…` with at least one more
 *    segment, in that project's files or in its architecture page (`architecture/<name>.md` for
 *    packages/<name> or apps/<name>); elsewhere such a path names no particular project;
 *  - a bare document name, `CONTRIBUTING.md` or `formats.md`: found beside the citing file, at its project's
 *    root, at the repository root or in architecture/;
 *  - in Markdown, a relative link target `[…](../README.md#part)`, and a `./` or `../` path with a file
 *    extension, from the file's directory.
 * Paths under git-ignored locations (`dist/`, `node_modules/`, `bench-results/tmp/`, …) are outputs and
 * are not checked; a path with a placeholder (`*`, `<`, `${`, `{`), or glued to one, is a pattern, not a
 * citation. In code, a bare name that is a whole quoted string (`'headline.md'`) names a file the program
 * reads or writes, not a document. A cited `x.js` exists when `x.ts` does (TypeScript's import convention).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { ignoredPaths, listFiles, projectOf, type WorkspaceProject } from './workspace.js';

/** Where the check looks: directories and root files. */
export const scannedLocations: readonly string[] = [
  'packages',
  'apps',
  'tooling',
  'architecture',
  'README.md',
  'CONTRIBUTING.md',
];

const scannedExtensions = [
  '.ts',
  '.mts',
  '.cts',
  '.js',
  '.mjs',
  '.cjs',
  '.md',
  '.sh',
  '.json',
  '.yaml',
  '.yml',
];
/** Data directories inside projects (fixtures hold inputs, not prose). */
const skippedDirectories = /(^|\/)fixtures\//;
/** This check's own tests: their fixture texts cite paths of a temporary repository on purpose. */
const notScanned: readonly string[] = [
  'tooling/repo-checks/src/cited-paths.test.ts',
  'tooling/repo-checks/src/dependency-rules.test.ts',
];
const projectRootedStarts = ['src', 'test', 'bench', 'scripts'];

export interface Citation {
  /** The citing file (repository path) and 1-based line. */
  file: string;
  line: number;
  /** The path as written. */
  cited: string;
}

const urlPattern = /\b[a-z][a-z0-9+.-]*:\/\/[^\s)'"`<>\]]+/gi;
// A path-like token: segments of [\w.@-] joined by `/`, not glued to a preceding word, `/`, `.` or `-`.
const pathToken = /(?<![\w@/.$-])((?:\.{1,2}\/)*(?:[\w.@-]+\/)+[\w.@-]*|[\w.-]+\.md)(?![\w/])/g;
const markdownLink = /\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;

function isPattern(path: string): boolean {
  return /[*<>{}$]/.test(path);
}

/** Every citation in one file's text, by the rules above. */
export function findCitations(
  file: string,
  text: string,
  topLevelEntries: ReadonlySet<string>,
  projects: readonly WorkspaceProject[],
): Citation[] {
  const citations: Citation[] = [];
  const isMarkdown = file.endsWith('.md');
  const hasProjectRoot = projectRootsFor(file, projects).length > 0;
  const lines = text.split('\n');
  lines.forEach((rawLine, index) => {
    const line = rawLine.replace(urlPattern, ' ');
    const seen = new Set<string>();
    const add = (cited: string) => {
      const trimmed = cited.replace(/[.,:;]+$/, '');
      if (!trimmed || seen.has(trimmed) || isPattern(trimmed)) return;
      seen.add(trimmed);
      citations.push({ file, line: index + 1, cited: trimmed });
    };
    if (isMarkdown) {
      for (const match of line.matchAll(markdownLink)) {
        const target = match[1]!;
        if (/^([a-z][a-z0-9+.-]*:|#|\/)/i.test(target)) continue;
        add(target.replace(/[#?].*$/, ''));
      }
    }
    for (const match of line.matchAll(pathToken)) {
      const token = match[1]!;
      const end = match.index + match[0].length;
      // Glued to a placeholder (`src/paper-*.ts`, `paper.{json,md}`): a pattern, not a citation.
      if (/[*<{$]/.test(line[end] ?? '')) continue;
      // In code, a quoted bare name (`join(outDir, 'headline.md')`) is a file the program handles.
      const quote = line[match.index - 1];
      if (!isMarkdown && !token.includes('/') && (quote === "'" || quote === '"') && line[end] === quote)
        continue;
      const first = token.split('/')[0]!;
      if (token.startsWith('./') || token.startsWith('../')) {
        if (isMarkdown && /\.\w+$/.test(token)) add(token);
      } else if (!token.includes('/')) {
        if (/^[\w.-]+\.md$/.test(token)) add(token);
      } else if (topLevelEntries.has(first)) {
        add(token);
      } else if (projectRootedStarts.includes(first) && hasProjectRoot && /^[^/]+\/[^/]+/.test(token)) {
        add(token);
      }
    }
  });
  return citations;
}

export interface CitationContext {
  root: string;
  projects: readonly WorkspaceProject[];
  isIgnored: (path: string) => boolean;
}

/** The project roots a `src/…` path in `file` is relative to: its own project's, or its architecture page's. */
function projectRootsFor(file: string, projects: readonly WorkspaceProject[]): string[] {
  const own = projectOf(projects, file);
  if (own) return [own.directory];
  const page = /^architecture\/([\w-]+)\.md$/.exec(file)?.[1];
  return page
    ? projects.filter((project) => project.directory.split('/')[1] === page).map((p) => p.directory)
    : [];
}

/** The directories a citation in `file` may be relative to, most specific first. */
function basesFor(citation: Citation, context: CitationContext): string[] {
  const { file, cited } = citation;
  const directory = posix.dirname(file);
  const project = projectOf(context.projects, file);
  const first = cited.split('/')[0]!;
  if (cited.startsWith('./') || cited.startsWith('../')) return [directory];
  if (!cited.includes('/')) {
    return [directory, ...(project ? [project.directory] : []), '.', 'architecture'];
  }
  if (projectRootedStarts.includes(first)) return [directory, ...projectRootsFor(file, context.projects)];
  return ['.', directory];
}

/** Whether the cited path exists (or is an output under an ignored location) from one of its bases. */
export function citationResolves(citation: Citation, context: CitationContext): boolean {
  const path = citation.cited.replace(/\/$/, '');
  for (const base of basesFor(citation, context)) {
    const target = posix.normalize(posix.join(base, path));
    if (target.startsWith('../')) continue;
    if (context.isIgnored(target)) return true;
    const candidates = [target, ...(target.endsWith('.js') ? [target.replace(/\.js$/, '.ts')] : [])];
    if (candidates.some((candidate) => existsSync(join(context.root, candidate)))) return true;
  }
  return false;
}

/** The citations in the scanned locations whose paths do not exist. */
export function missingCitations(root: string, projects: readonly WorkspaceProject[]): Citation[] {
  const isIgnored = ignoredPaths(root);
  const context: CitationContext = { root, projects, isIgnored };
  const topLevelEntries = new Set(
    readdirSync(root).filter((entry) => entry !== '.git' && entry !== 'node_modules' && !isIgnored(entry)),
  );
  const files = scannedLocations.flatMap((location) =>
    existsSync(join(root, location)) && statSync(join(root, location)).isDirectory()
      ? listFiles(root, location, scannedExtensions)
      : existsSync(join(root, location))
        ? [location]
        : [],
  );
  return files
    .filter((file) => !skippedDirectories.test(file) && !notScanned.includes(file))
    .flatMap((file) => findCitations(file, readFileSync(join(root, file), 'utf8'), topLevelEntries, projects))
    .filter((citation) => !citationResolves(citation, context));
}

/** `file:line cites path` lines, for a readable failure. */
export function describeCitations(citations: readonly Citation[]): string[] {
  return citations.map(
    (citation) => `${citation.file}:${citation.line} cites ${citation.cited}, which does not exist`,
  );
}
