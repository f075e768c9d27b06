import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteLayerVersionCommand,
  type LayerVersionsListItem,
  ListLayerVersionsCommand,
  PublishLayerVersionCommand,
} from '@aws-sdk/client-lambda';
import { lambdaLimits } from '@switchyard/core';
import { writeZip } from '@switchyard/lambda-local/internal';
import { deploymentError } from '../errors.js';
import { functionRuntimes } from '../options.js';
import { awsErrorName } from './control-plane.js';
import { type DeploymentContext, read, write } from './deployment-context.js';
import { runtimeLayerName } from './deployment-names.js';
import { runtimeLayerPackage } from './packaging.js';
import { contentAddressedObject, type DeploymentObject, uploadObject } from './weights-bucket.js';

/** A runtime layer, built and ready to publish (or already published). */
export interface RuntimeLayer {
  arch: 'x86_64' | 'arm64';
  layerName: string;
  zip: Uint8Array;
  /** Hex SHA-256 of the zip: recorded in the version's description, how a re-run finds it. */
  sha256: string;
  unzippedBytes: number;
}

/** What a deployment did to one runtime layer. */
export interface LayerAction {
  layerName: string;
  arch: 'x86_64' | 'arm64';
  layerVersionArn?: string;
  bytes?: number;
  unzippedBytes?: number;
  actions: Array<'publish' | 'unchanged' | 'delete'>;
}

/** Layer zips this process built or read, by content key. */
const builtLayers = new Map<string, Uint8Array>();

/**
 * The zip of a layer's entries, built once per content: kept in memory for this process (a server
 * that re-plans deploys again) and in `$TMPDIR/switchyard-layer-cache/<key>.zip` for the next
 * process (a CLI deploy), because deflating onnxruntime's ~48 MB takes seconds and its bytes rarely
 * change. The key hashes every entry's path, mode and bytes, and the file is written under a
 * temporary name and renamed, so a cached zip is never partial or stale.
 */
function layerZip(entries: ReturnType<typeof runtimeLayerPackage>): Uint8Array {
  const hash = createHash('sha256').update('switchyard-layer-zip-v1');
  for (const entry of entries) hash.update(`${entry.path}\0${entry.mode ?? 0o644}\0`).update(entry.data);
  const key = hash.digest('hex');
  const known = builtLayers.get(key);
  if (known) return known;
  const dir = join(tmpdir(), 'switchyard-layer-cache');
  const path = join(dir, `${key}.zip`);
  let zip: Uint8Array | undefined;
  try {
    zip = new Uint8Array(readFileSync(path));
  } catch {
    zip = writeZip(entries);
    try {
      mkdirSync(dir, { recursive: true });
      const partial = `${path}.${process.pid}.tmp`;
      writeFileSync(partial, zip);
      renameSync(partial, path);
    } catch {
      // A cache that cannot be written only costs the next process the same seconds.
    }
  }
  builtLayers.set(key, zip);
  return zip;
}

/** Builds the runtime layer of `arch` for the deployment of `model` (nothing is uploaded yet). */
export function buildRuntimeLayer(
  model: string,
  arch: 'x86_64' | 'arm64',
  handlerBundle?: Uint8Array,
): RuntimeLayer {
  const entries = runtimeLayerPackage(arch, handlerBundle);
  const zip = layerZip(entries);
  return {
    arch,
    layerName: runtimeLayerName(model, arch),
    zip,
    sha256: createHash('sha256').update(zip).digest('hex'),
    unzippedBytes: entries.reduce((sum, entry) => sum + entry.data.byteLength, 0),
  };
}

const descriptionOf = (layer: RuntimeLayer): string =>
  `Switchyard expert-function runtime (handler + onnxruntime-node, ${layer.arch}) sha256:${layer.sha256}`;

/** Every version of a layer (none when the layer does not exist). */
async function layerVersions(
  context: DeploymentContext,
  layerName: string,
): Promise<LayerVersionsListItem[]> {
  const versions: LayerVersionsListItem[] = [];
  let marker: string | undefined;
  try {
    do {
      const page = await read(context, `ListLayerVersions ${layerName}`, () =>
        context.clients.lambda.send(new ListLayerVersionsCommand({ LayerName: layerName, Marker: marker })),
      );
      versions.push(...(page.LayerVersions ?? []));
      marker = page.NextMarker;
    } while (marker);
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') return [];
    throw error;
  }
  return versions;
}

/**
 * Publishes the runtime layer unless a version with the same content exists (its description
 * carries the zip's SHA-256; Lambda has no content lookup for layers). Zips over the 50 MB
 * direct-upload limit go through the code bucket. Returns the version ARN functions reference.
 */
export async function ensureRuntimeLayer(
  context: DeploymentContext,
  layer: RuntimeLayer,
  codeBucket: { bucket: string; prefix: string } | undefined,
): Promise<LayerAction> {
  const existing = (await layerVersions(context, layer.layerName)).find((version) =>
    version.Description?.endsWith(`sha256:${layer.sha256}`),
  );
  const base = {
    layerName: layer.layerName,
    arch: layer.arch,
    bytes: layer.zip.byteLength,
    unzippedBytes: layer.unzippedBytes,
  };
  if (existing?.LayerVersionArn)
    return { ...base, layerVersionArn: existing.LayerVersionArn, actions: ['unchanged'] };
  let content: { ZipFile?: Uint8Array; S3Bucket?: string; S3Key?: string } = { ZipFile: layer.zip };
  if (layer.zip.byteLength > lambdaLimits.zippedCodeBytes) {
    if (!codeBucket) {
      throw deploymentError(
        `the runtime layer zip is ${layer.zip.byteLength} bytes, over the 50 MB direct-upload limit; pass a bucket (--bucket) to upload it through S3`,
        layer.layerName,
      );
    }
    const object: DeploymentObject = contentAddressedObject(
      codeBucket.prefix,
      context.model,
      'code',
      '.zip',
      layer.zip,
    );
    await uploadObject(context, codeBucket.bucket, object);
    content = { S3Bucket: codeBucket.bucket, S3Key: object.key };
  }
  let layerVersionArn: string | undefined;
  if (!context.dryRun) {
    const published = await context.controlPlane.call(`PublishLayerVersion ${layer.layerName}`, () =>
      context.clients.lambda.send(
        new PublishLayerVersionCommand({
          LayerName: layer.layerName,
          Description: descriptionOf(layer),
          Content: content,
          CompatibleRuntimes: [...functionRuntimes],
          CompatibleArchitectures: [layer.arch],
          LicenseInfo: 'MIT AND Apache-2.0',
        }),
      ),
    );
    layerVersionArn = published.LayerVersionArn;
  }
  return { ...base, ...(layerVersionArn ? { layerVersionArn } : {}), actions: ['publish'] };
}

/** Deletes every version of the deployment's runtime layers (both architectures). */
export async function deleteRuntimeLayers(context: DeploymentContext): Promise<LayerAction[]> {
  const actions: LayerAction[] = [];
  for (const arch of ['x86_64', 'arm64'] as const) {
    const layerName = runtimeLayerName(context.model, arch);
    for (const version of await layerVersions(context, layerName)) {
      const versionNumber = version.Version;
      if (versionNumber === undefined) continue;
      await write(context, `DeleteLayerVersion ${layerName}:${versionNumber}`, () =>
        context.clients.lambda.send(
          new DeleteLayerVersionCommand({ LayerName: layerName, VersionNumber: versionNumber }),
        ),
      );
      actions.push({ layerName, arch, layerVersionArn: version.LayerVersionArn, actions: ['delete'] });
    }
  }
  return actions;
}
