import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { FunctionCode } from '@aws-sdk/client-lambda';
import { type DeploymentPlan, lambdaLimits } from '@switchyard/core';
import { expertManifestFile } from '@switchyard/expert-function';
import { lambdaHandlerModuleUrl } from '@switchyard/expert-function/internal';
import { localCodeBucket } from '@switchyard/lambda-local';
import { deploymentError } from '../errors.js';
import type { DeployOptions, ResolvedDeployOptions } from '../options.js';
import type { DesiredFunction } from './desired-functions.js';
import {
  expertManifest,
  graphPath,
  manifestFileBytes,
  packageExpertFunction,
  zipPackage,
} from './packaging.js';
import { contentAddressedObject, type DeploymentObject } from './weights-bucket.js';

/** How a function's code is shipped. */
export type Packaging = 'zip' | 's3-zip' | 'local-directory';

/** Code for one function group, prepared once and shared by its replicas. */
export interface PreparedCode {
  /** CreateFunction's `Code`. */
  code: FunctionCode;
  /** What GetFunction will report as `CodeSha256` once this code is deployed. */
  sha256: string;
  codeBytes: number;
  unzippedBytes: number;
  packaging: Packaging;
}

/** What preparing code needs from the deploy options. */
type CodeOptions = Pick<ResolvedDeployOptions, 'dryRun' | 'stageDir'> & Pick<DeployOptions, 'graphs'>;

/** Where a deployment's graphs and big zips go; objects are staged here and uploaded later. */
export interface CodeStorage {
  /** Bucket for the graphs (manifest entries become `s3://bucket/key`); without it they are in the code. */
  weights?: { bucket: string; prefix: string };
  /** Bucket for zips over the 50 MB direct-upload limit. */
  code?: { bucket: string; prefix: string };
  /** Called once per object the code needs in S3 (graphs, big zips), before any function is written. */
  stage(bucket: string, object: DeploymentObject): void;
  model: string;
}

/**
 * With a weights bucket, each graph of the function becomes a content-addressed object (staged for
 * upload) and the manifest names it as `s3://bucket/key`; the function loads it at INIT.
 */
async function graphsInS3(
  fn: DesiredFunction,
  options: CodeOptions,
  storage: CodeStorage,
): Promise<(layer: number, expert: number) => string | undefined> {
  const locations = new Map<number, string>();
  const weights = storage.weights;
  if (weights) {
    for (const expert of fn.experts) {
      const bytes = await options.graphs(fn.layer, expert);
      const object = contentAddressedObject(weights.prefix, storage.model, 'graphs', '.onnx', bytes);
      storage.stage(weights.bucket, object);
      locations.set(expert, `s3://${weights.bucket}/${object.key}`);
    }
  }
  return (_layer, expert) => locations.get(expert);
}

/**
 * A local deployment's code: a directory the local runtime runs in place (`localCodeBucket`), holding
 * the manifest, a one-line `expert-function.mjs` that re-exports the expert function's handler, and
 * the graphs unless they are in the (embedded) S3. The directory name carries the content hash:
 * changed content → new path → new CodeSha256.
 */
export async function prepareLocalCode(
  plan: DeploymentPlan,
  fn: DesiredFunction,
  options: CodeOptions,
  storage: CodeStorage,
): Promise<PreparedCode> {
  const location = await graphsInS3(fn, options, storage);
  const manifest = expertManifest(fn.layer, fn.experts, plan.model.hiddenSize, location);
  const entry = `export { handler } from ${JSON.stringify(lambdaHandlerModuleUrl())};\n`;
  const files: Array<[string, Uint8Array]> = [];
  for (const expert of fn.experts) {
    if (location(fn.layer, expert) === undefined)
      files.push([graphPath(fn.layer, expert), await options.graphs(fn.layer, expert)]);
  }
  files.push([expertManifestFile, manifestFileBytes(manifest)]);
  files.push(['expert-function.mjs', new TextEncoder().encode(entry)]);
  const hash = createHash('sha256');
  for (const [path, data] of files) hash.update(path).update(data);
  const digest = hash.digest('hex').slice(0, 16);
  const root =
    options.stageDir ?? join(tmpdir(), 'switchyard-deploy', plan.model.name.replace(/[^A-Za-z0-9_.-]/g, '_'));
  const dir = join(root, `${fn.baseName}-${digest}`);
  if (!options.dryRun) {
    for (const [path, data] of files) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), data);
    }
  }
  const bytes = files.reduce((sum, [, data]) => sum + data.byteLength, 0);
  return {
    code: { S3Bucket: localCodeBucket, S3Key: dir },
    sha256: createHash('sha256').update(dir).digest('base64'),
    codeBytes: bytes,
    unzippedBytes: bytes,
    packaging: 'local-directory',
  };
}

/**
 * An AWS deployment's code: the function zip holds the manifest and the stub that loads the handler
 * and onnxruntime from the runtime layer, plus the graphs unless they go to the weights bucket
 * (content-addressed keys, the manifest naming `s3://bucket/key`). The zip goes inline up to Lambda's
 * 50 MB direct-upload limit and through the code bucket above it. Nothing is uploaded here: S3
 * objects are handed to `storage.stage`, so every limit is checked before the first upload.
 */
export async function prepareAwsCode(
  plan: DeploymentPlan,
  fn: DesiredFunction,
  options: CodeOptions,
  storage: CodeStorage,
): Promise<PreparedCode> {
  const pkg = await packageExpertFunction({
    layer: fn.layer,
    experts: fn.experts,
    hiddenSize: plan.model.hiddenSize,
    graphs: options.graphs,
    arch: fn.arch,
    runtimeFromLayer: true,
    graphLocation: await graphsInS3(fn, options, storage),
  });
  const zip = zipPackage(pkg);
  const sha256 = createHash('sha256').update(zip).digest('base64');
  const prepared = { sha256, codeBytes: zip.byteLength, unzippedBytes: pkg.unzippedBytes };
  if (zip.byteLength <= lambdaLimits.zippedCodeBytes)
    return { ...prepared, code: { ZipFile: zip }, packaging: 'zip' };
  const code = storage.code;
  if (!code) {
    if (options.dryRun)
      return { ...prepared, code: { S3Bucket: '(bucket)', S3Key: '(zip)' }, packaging: 's3-zip' };
    throw deploymentError(
      `the zip is ${zip.byteLength} bytes, over the 50 MB direct-upload limit; pass --bucket to put the graphs in S3 (or --code-bucket to upload the zip through S3)`,
      fn.functionName,
    );
  }
  const object = contentAddressedObject(code.prefix, storage.model, 'code', '.zip', zip);
  storage.stage(code.bucket, object);
  return { ...prepared, code: { S3Bucket: code.bucket, S3Key: object.key }, packaging: 's3-zip' };
}
