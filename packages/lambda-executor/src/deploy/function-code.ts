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

/** How a function's code is shipped. */
export type Packaging = 'zip' | 's3-zip' | 'container-image' | 'local-directory';

/** Code for one function group, prepared once and shared by its replicas. */
export interface PreparedCode {
  /** CreateFunction's `Code` (empty for a container image, which deployment refuses). */
  code: FunctionCode;
  /** What GetFunction will report as `CodeSha256` once this code is deployed. */
  sha256: string;
  codeBytes: number;
  unzippedBytes: number;
  packaging: Packaging;
}

/** What preparing code needs from the deploy options. */
type CodeOptions = Pick<ResolvedDeployOptions, 'dryRun' | 'stageDir' | 'codeBucket' | 'region'> &
  Pick<DeployOptions, 'graphs' | 'handlerBundle'>;

/**
 * A local deployment's code: a directory the local runtime runs in place (`localCodeBucket`), holding
 * the graphs, the manifest and a one-line `expert-function.mjs` that re-exports the expert function's
 * handler. The directory name carries the content hash: changed content → new path → new CodeSha256.
 */
export async function prepareLocalCode(
  plan: DeploymentPlan,
  fn: DesiredFunction,
  options: CodeOptions,
): Promise<PreparedCode> {
  const manifest = expertManifest(fn.layer, fn.experts, plan.model.hiddenSize);
  const entry = `export { handler } from ${JSON.stringify(lambdaHandlerModuleUrl())};\n`;
  const files: Array<[string, Uint8Array]> = [];
  for (const expert of fn.experts)
    files.push([graphPath(fn.layer, expert), await options.graphs(fn.layer, expert)]);
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
 * An AWS deployment's code: the packaged zip, inline up to Lambda's 50 MB direct-upload limit and
 * through S3 (`codeBucket`) above it; over the unzipped limit, a container image (not deployed here).
 */
export async function prepareAwsCode(
  plan: DeploymentPlan,
  fn: DesiredFunction,
  options: CodeOptions,
): Promise<PreparedCode> {
  const pkg = await packageExpertFunction({
    layer: fn.layer,
    experts: fn.experts,
    hiddenSize: plan.model.hiddenSize,
    graphs: options.graphs,
    arch: plan.arch,
    handlerBundle: options.handlerBundle,
  });
  if (!pkg.fitsZip) {
    return {
      code: {},
      sha256: '',
      codeBytes: 0,
      unzippedBytes: pkg.unzippedBytes,
      packaging: 'container-image',
    };
  }
  const zip = zipPackage(pkg);
  const sha256 = createHash('sha256').update(zip).digest('base64');
  const prepared = { sha256, codeBytes: zip.byteLength, unzippedBytes: pkg.unzippedBytes };
  if (zip.byteLength <= lambdaLimits.zippedCodeBytes)
    return { ...prepared, code: { ZipFile: zip }, packaging: 'zip' };
  if (!options.codeBucket && !options.dryRun) {
    throw deploymentError(
      `the zip is ${zip.byteLength} bytes, over the 50 MB inline limit; pass codeBucket (--code-bucket) to upload it through S3`,
      fn.functionName,
    );
  }
  const key = `switchyard/${fn.baseName}-${sha256.replace(/[^A-Za-z0-9]/g, '').slice(0, 16)}.zip`;
  if (!options.dryRun && options.codeBucket) {
    const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
    const s3 = new S3Client({ region: options.region });
    await s3.send(new PutObjectCommand({ Bucket: options.codeBucket, Key: key, Body: zip }));
    s3.destroy();
  }
  return {
    ...prepared,
    code: { S3Bucket: options.codeBucket ?? '(code bucket)', S3Key: key },
    packaging: 's3-zip',
  };
}
