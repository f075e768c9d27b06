import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { lambdaLimits } from '@switchyard/core';
import { type ExpertManifest, expertManifestFile } from '@switchyard/expert-function';
import { lambdaHandlerBundlePath } from '@switchyard/expert-function/internal';
import { writeZip, type ZipEntry } from '@switchyard/lambda-local/internal';
import { deploymentError } from '../errors.js';
import type { ExpertGraphSource, FunctionRuntime } from '../options.js';

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
  /**
   * The handler bundle and onnxruntime come from the runtime layer (`runtimeLayerPackage`): the zip
   * holds a loader stub instead of either.
   */
  runtimeFromLayer?: boolean;
  /** Where a graph lives outside the zip (`s3://bucket/key`); undefined = in the zip. */
  graphLocation?: (layer: number, expert: number) => string | undefined;
}

function walk(
  dir: string,
  root: string,
  into: ZipEntry[],
  prefix: string,
  keep: (path: string) => boolean,
): void {
  // Sorted: the zip (and so its CodeSha256) must not depend on the file system's directory order.
  for (const name of readdirSync(dir).sort()) {
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

/**
 * The manifest of a function holding `experts` of `layer`: each graph at `graphPath` in the code, or
 * where `location` says (`s3://bucket/key`).
 */
export function expertManifest(
  layer: number,
  experts: readonly number[],
  hiddenSize: number,
  location: (layer: number, expert: number) => string | undefined = () => undefined,
): ExpertManifest {
  return {
    kind: 'switchyard.expert-manifest',
    version: 1,
    hiddenSize,
    experts: experts.map((expert) => ({
      layer,
      expert,
      file: location(layer, expert) ?? graphPath(layer, expert),
    })),
  };
}

/** The manifest as the file the function reads. */
export function manifestFileBytes(manifest: ExpertManifest): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * Where the runtime layer puts the handler bundle: a package directory under the layer's
 * `nodejs/node_modules`, which Lambda extracts to `/opt/nodejs/node_modules` and lists in `NODE_PATH`.
 * Bare imports inside the bundle (`onnxruntime-node`) resolve from there to the layer's own copy.
 */
export const layerHandlerModule = 'switchyard-expert-function/expert-function.mjs';

/**
 * The `expert-function.mjs` of a function whose handler is in the runtime layer. An ES module import
 * does not search `NODE_PATH`, so the stub looks in its entries (and in `/opt/nodejs/node_modules`,
 * where Lambda extracts a layer's `nodejs/node_modules`) itself, and fails INIT with a message naming
 * the paths when the layer is missing.
 */
export const layerHandlerStub = `// Switchyard expert function: the handler and onnxruntime-node are in the runtime layer.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const bundle = ${JSON.stringify(layerHandlerModule)};
const roots = [...(process.env.NODE_PATH ?? '').split(':').filter(Boolean), '/opt/nodejs/node_modules'];
const found = roots.map((root) => join(root, bundle)).find((path) => existsSync(path));
if (!found) throw new Error(\`the Switchyard runtime layer is missing: no \${bundle} under \${roots.join(', ')}\`);
export const { handler } = await import(pathToFileURL(found).href);
`;

/**
 * Packages one function: manifest, its expert graphs (unless they are in S3), and either the handler
 * bundle with the Linux onnxruntime binaries or, with `runtimeFromLayer`, the stub that loads both
 * from the runtime layer; checked against Lambda's unzipped code limit.
 */
export async function packageExpertFunction(options: PackageExpertFunctionOptions): Promise<FunctionPackage> {
  const location = options.graphLocation ?? (() => undefined);
  const manifest = expertManifest(options.layer, options.experts, options.hiddenSize, location);
  const entries: ZipEntry[] = [];
  for (const expert of new Set(options.experts)) {
    if (location(options.layer, expert) !== undefined) continue;
    entries.push({
      path: graphPath(options.layer, expert),
      data: await options.graphs(options.layer, expert),
    });
  }
  entries.push({ path: expertManifestFile, data: manifestFileBytes(manifest) });
  if (options.runtimeFromLayer) {
    entries.push({ path: 'expert-function.mjs', data: new TextEncoder().encode(layerHandlerStub) });
  } else {
    entries.push({ path: 'expert-function.mjs', data: options.handlerBundle ?? expertFunctionBundle() });
    if (options.includeOnnxruntime ?? true) entries.push(...onnxruntimeEntries(options.arch));
  }
  const unzippedBytes = entries.reduce((sum, entry) => sum + entry.data.byteLength, 0);
  return { entries, manifest, unzippedBytes, fitsZip: unzippedBytes <= lambdaLimits.unzippedCodeBytes };
}

/**
 * The runtime layer of one architecture, shared by every function of a deployment: the handler
 * bundle and onnxruntime-node (its JS and that architecture's Linux binaries) under
 * `nodejs/node_modules`, where Lambda's Node.js runtime finds layer packages.
 */
export function runtimeLayerPackage(arch: 'x86_64' | 'arm64', handlerBundle?: Uint8Array): ZipEntry[] {
  return [
    { path: `nodejs/node_modules/${layerHandlerModule}`, data: handlerBundle ?? expertFunctionBundle() },
    ...onnxruntimeEntries(arch).map((entry) => ({ ...entry, path: `nodejs/${entry.path}` })),
  ];
}

/** The package as a zip archive. */
export function zipPackage(pkg: FunctionPackage): Uint8Array {
  return writeZip(pkg.entries);
}

/**
 * Container-image alternative for experts too big for a zip (up to Lambda's 10 GB image limit): the
 * image holds the handler and onnxruntime; the manifest points at the graphs in S3
 * (`s3://bucket/key`), loaded at INIT. The base image is AWS's Node.js image of the same major as
 * the zip runtime (`nodejs22.x` → `public.ecr.aws/lambda/nodejs:22`).
 */
export function containerDockerfile(
  arch: 'x86_64' | 'arm64',
  runtime: FunctionRuntime = 'nodejs22.x',
): string {
  const major = /^nodejs(\d+)\.x$/.exec(runtime)?.[1] ?? '22';
  return [
    `FROM public.ecr.aws/lambda/nodejs:${major}-${arch === 'arm64' ? 'arm64' : 'x86_64'}`,
    '# Handler bundle and onnxruntime-node (Linux binaries only); graphs are loaded from S3 at INIT.',
    `COPY expert-function.mjs ${expertManifestFile} /var/task/`,
    'COPY node_modules /var/task/node_modules',
    'CMD ["expert-function.handler"]',
    '',
  ].join('\n');
}
