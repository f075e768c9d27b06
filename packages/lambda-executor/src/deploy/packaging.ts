import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LambdaExecutorError } from '../errors.js';
import { type ExpertManifest, expertKey, expertManifestFile } from '../handler/manifest.js';
import { writeZip, type ZipEntry } from '../runtime/zip.js';

/** Lambda's limit on a function's unzipped code (with layers): 250 MB (DESIGN.md §4). */
export const maxUnzippedBytes = 262_144_000;
/** Largest zip that CreateFunction accepts inline (`Code.ZipFile`); bigger ones go through S3. */
export const maxDirectZipBytes = 52_428_800;

/** The expert graphs of one function: (layer, expert) → ONNX bytes (`buildExpertGraph` output). */
export type ExpertGraphSource = (layer: number, expert: number) => Uint8Array | Promise<Uint8Array>;

export interface FunctionPackage {
  entries: ZipEntry[];
  manifest: ExpertManifest;
  unzippedBytes: number;
  /** Whether the zip fits Lambda's 250 MB unzipped limit; otherwise use the container image. */
  fitsZip: boolean;
}

function walk(
  dir: string,
  root: string,
  into: ZipEntry[],
  prefix: string,
  keep: (path: string) => boolean,
): void {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const rel = relative(root, full).split('\\').join('/');
    if (!keep(rel)) continue;
    if (statSync(full).isDirectory()) walk(full, root, into, prefix, keep);
    else
      into.push({
        path: `${prefix}/${rel}`,
        data: new Uint8Array(readFileSync(full)),
        mode: statSync(full).mode & 0o777,
      });
  }
}

/**
 * onnxruntime-node (and onnxruntime-common) as they must appear in the zip's node_modules: the JS,
 * and only the Linux native binaries for the function's architecture (the package ships darwin,
 * win32 and both Linux ones, ~150 MB together).
 */
const onnxruntimeCache = new Map<string, ZipEntry[]>();

export function onnxruntimeEntries(arch: 'x86_64' | 'arm64'): ZipEntry[] {
  const cached = onnxruntimeCache.get(arch);
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const nodeDir = dirname(realpathSync(require.resolve('onnxruntime-node/package.json')));
  // onnxruntime-common has no `./package.json` export; it sits next to (pnpm, npm) or under onnxruntime-node.
  const commonDir = [
    join(nodeDir, 'node_modules', 'onnxruntime-common'),
    join(nodeDir, '..', 'onnxruntime-common'),
  ].find((dir) => existsSync(join(dir, 'package.json')));
  if (!commonDir) {
    throw new LambdaExecutorError({
      code: 'DEPLOYMENT_FAILED',
      message: 'onnxruntime-common (a dependency of onnxruntime-node) was not found',
      location: nodeDir,
    });
  }
  const linuxArch = arch === 'arm64' ? 'arm64' : 'x64';
  const entries: ZipEntry[] = [];
  walk(nodeDir, nodeDir, entries, 'node_modules/onnxruntime-node', (rel) => {
    if (rel === 'script' || rel.startsWith('script/') || rel.endsWith('.map') || rel.endsWith('.d.ts'))
      return false;
    if (!rel.startsWith('bin/')) return true;
    const parts = rel.split('/'); // bin / napi-vN / platform / arch
    if (parts.length >= 3 && parts[2] !== 'linux') return false;
    if (parts.length >= 4 && parts[3] !== linuxArch) return false;
    return true;
  });
  walk(
    commonDir,
    commonDir,
    entries,
    'node_modules/onnxruntime-common',
    (rel) => !rel.endsWith('.map') && !rel.startsWith('lib'),
  );
  return entries;
}

/**
 * The built, self-contained handler bundle (`dist/lambda/expert-function.mjs`: core and zod inlined,
 * onnxruntime-node and the AWS SDK left to node_modules and the Node 20 runtime).
 */
export function expertFunctionBundle(): Uint8Array {
  const here = fileURLToPath(import.meta.url);
  const candidates = [
    join(dirname(here), 'lambda', 'expert-function.mjs'),
    join(dirname(here), '..', '..', 'dist', 'lambda', 'expert-function.mjs'),
  ];
  const found = candidates.find((path) => existsSync(path));
  if (!found) {
    throw new LambdaExecutorError({
      code: 'DEPLOYMENT_FAILED',
      message:
        'the expert function bundle is not built; run `pnpm --filter @switchyard/lambda-executor build` first',
      location: candidates[1],
    });
  }
  return new Uint8Array(readFileSync(found));
}

/** Graph file name inside the package. */
export function graphPath(layer: number, expert: number): string {
  return `graphs/layer${layer}-expert${expert}.onnx`;
}

/**
 * Packages one function: handler bundle, manifest, its expert graphs and the Linux onnxruntime
 * binaries; checked against the 250 MB unzipped limit.
 */
export async function packageExpertFunction(options: {
  layer: number;
  experts: readonly number[];
  hiddenSize: number;
  graphs: ExpertGraphSource;
  arch: 'x86_64' | 'arm64';
  handlerBundle?: Uint8Array;
  /** Leave out onnxruntime (e.g. when a Lambda layer provides it). */
  includeOnnxruntime?: boolean;
}): Promise<FunctionPackage> {
  const entries: ZipEntry[] = [];
  const manifest: ExpertManifest = {
    kind: 'switchyard.expert-manifest',
    version: 1,
    hiddenSize: options.hiddenSize,
    experts: options.experts.map((expert) => ({
      layer: options.layer,
      expert,
      file: graphPath(options.layer, expert),
    })),
  };
  const seen = new Set<string>();
  for (const expert of options.experts) {
    if (seen.has(expertKey(options.layer, expert))) continue;
    seen.add(expertKey(options.layer, expert));
    entries.push({
      path: graphPath(options.layer, expert),
      data: await options.graphs(options.layer, expert),
    });
  }
  entries.push({
    path: expertManifestFile,
    data: new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`),
  });
  entries.push({ path: 'expert-function.mjs', data: options.handlerBundle ?? expertFunctionBundle() });
  if (options.includeOnnxruntime ?? true) entries.push(...onnxruntimeEntries(options.arch));
  const unzippedBytes = entries.reduce((sum, entry) => sum + entry.data.byteLength, 0);
  return { entries, manifest, unzippedBytes, fitsZip: unzippedBytes <= maxUnzippedBytes };
}

export function zipPackage(pkg: FunctionPackage): Uint8Array {
  return writeZip(pkg.entries);
}

/**
 * Container-image alternative for experts too big for a zip: the image holds the handler and
 * onnxruntime; the manifest points at the graphs in S3 (`s3://bucket/key`), loaded at INIT.
 */
export function containerDockerfile(arch: 'x86_64' | 'arm64'): string {
  return [
    `FROM public.ecr.aws/lambda/nodejs:20-${arch === 'arm64' ? 'arm64' : 'x86_64'}`,
    '# Handler bundle and onnxruntime-node (Linux binaries only); graphs are loaded from S3 at INIT.',
    'COPY expert-function.mjs switchyard-experts.json /var/task/',
    'COPY node_modules /var/task/node_modules',
    'CMD ["expert-function.handler"]',
    '',
  ].join('\n');
}
