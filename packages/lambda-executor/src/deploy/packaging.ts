import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { lambdaLimits } from '@switchyard/core';
import { type ExpertManifest, expertManifestFile } from '@switchyard/expert-function';
import { lambdaHandlerBundlePath } from '@switchyard/expert-function/internal';
import { writeZip, type ZipEntry } from '@switchyard/lambda-local/internal';
import { deploymentError } from '../errors.js';
import type { ExpertGraphSource } from '../options.js';

/** A function's code: the files of its zip (or image), its manifest, and whether it fits a zip. */
export interface FunctionPackage {
  entries: ZipEntry[];
  manifest: ExpertManifest;
  unzippedBytes: number;
  /** Whether it fits Lambda's unzipped code limit (250 MB); otherwise use the container image. */
  fitsZip: boolean;
}

/** What `packageExpertFunction` packages. */
export interface PackageExpertFunctionOptions {
  layer: number;
  experts: readonly number[];
  hiddenSize: number;
  graphs: ExpertGraphSource;
  arch: 'x86_64' | 'arm64';
  /** Handler bundle bytes (default: `@switchyard/expert-function`'s built bundle). */
  handlerBundle?: Uint8Array;
  /** Leave out onnxruntime (e.g. when a Lambda layer provides it). */
  includeOnnxruntime?: boolean;
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

const onnxruntimeCache = new Map<string, ZipEntry[]>();

/**
 * onnxruntime-node (and onnxruntime-common) as they must appear in the zip's node_modules: the JS,
 * and only the Linux native binaries for the function's architecture (the package ships darwin,
 * win32 and both Linux ones, ~150 MB together). Taken from where `@switchyard/expert-function` finds
 * them, so the zip holds the version the handler was built against.
 */
function onnxruntimeEntries(arch: 'x86_64' | 'arm64'): ZipEntry[] {
  const cached = onnxruntimeCache.get(arch);
  if (cached) return cached;
  const expertFunctionPackage = createRequire(import.meta.url).resolve(
    '@switchyard/expert-function/package.json',
  );
  const require = createRequire(expertFunctionPackage);
  const nodeDir = dirname(realpathSync(require.resolve('onnxruntime-node/package.json')));
  // onnxruntime-common has no `./package.json` export; it sits next to (pnpm, npm) or under onnxruntime-node.
  const commonDir = [
    join(nodeDir, 'node_modules', 'onnxruntime-common'),
    join(nodeDir, '..', 'onnxruntime-common'),
  ].find((dir) => existsSync(join(dir, 'package.json')));
  if (!commonDir) {
    throw deploymentError('onnxruntime-common (a dependency of onnxruntime-node) was not found', nodeDir);
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
  // Kept, so every function of a deployment shares these buffers (and writeZip's compressed copies).
  onnxruntimeCache.set(arch, entries);
  return entries;
}

/** The built handler bundle of `@switchyard/expert-function`, or a DEPLOYMENT_FAILED saying to build it. */
function expertFunctionBundle(): Uint8Array {
  const path = lambdaHandlerBundlePath();
  if (!existsSync(path)) {
    throw deploymentError(
      'the expert function bundle is not built; run `pnpm --filter @switchyard/expert-function build` first',
      path,
    );
  }
  return new Uint8Array(readFileSync(path));
}

/** Graph file name inside the package. */
export function graphPath(layer: number, expert: number): string {
  return `graphs/layer${layer}-expert${expert}.onnx`;
}

/** The manifest of a function holding `experts` of `layer`, with the graphs at `graphPath`. */
export function expertManifest(
  layer: number,
  experts: readonly number[],
  hiddenSize: number,
): ExpertManifest {
  return {
    kind: 'switchyard.expert-manifest',
    version: 1,
    hiddenSize,
    experts: experts.map((expert) => ({ layer, expert, file: graphPath(layer, expert) })),
  };
}

/** The manifest as the file the function reads. */
export function manifestFileBytes(manifest: ExpertManifest): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * Packages one function: handler bundle, manifest, its expert graphs and the Linux onnxruntime
 * binaries; checked against Lambda's unzipped code limit.
 */
export async function packageExpertFunction(options: PackageExpertFunctionOptions): Promise<FunctionPackage> {
  const manifest = expertManifest(options.layer, options.experts, options.hiddenSize);
  const entries: ZipEntry[] = [];
  for (const expert of new Set(options.experts)) {
    entries.push({
      path: graphPath(options.layer, expert),
      data: await options.graphs(options.layer, expert),
    });
  }
  entries.push({ path: expertManifestFile, data: manifestFileBytes(manifest) });
  entries.push({ path: 'expert-function.mjs', data: options.handlerBundle ?? expertFunctionBundle() });
  if (options.includeOnnxruntime ?? true) entries.push(...onnxruntimeEntries(options.arch));
  const unzippedBytes = entries.reduce((sum, entry) => sum + entry.data.byteLength, 0);
  return { entries, manifest, unzippedBytes, fitsZip: unzippedBytes <= lambdaLimits.unzippedCodeBytes };
}

/** The package as a zip archive. */
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
    `COPY expert-function.mjs ${expertManifestFile} /var/task/`,
    'COPY node_modules /var/task/node_modules',
    'CMD ["expert-function.handler"]',
    '',
  ].join('\n');
}
