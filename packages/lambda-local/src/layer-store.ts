import { createHash } from 'node:crypto';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { lambdaLimits } from '@switchyard/core';
import type { CodeStore, StoredCode } from './code-store.js';
import { lambdaApiErrors } from './errors.js';
import { lambdaTimestamp } from './function-record.js';
import { layerArn } from './protocol.js';

/** One published layer version: its content, extracted once, and what the API reports about it. */
export interface LayerVersion {
  layerName: string;
  version: number;
  layerArn: string;
  layerVersionArn: string;
  description: string;
  createdDate: string;
  compatibleRuntimes: string[];
  compatibleArchitectures: string[];
  licenseInfo: string | undefined;
  content: StoredCode;
  /** DeleteLayerVersion was called: no new function may use it; functions that do keep it. */
  deleted: boolean;
}

interface Layer {
  versions: Map<number, LayerVersion>;
  lastVersion: number;
}

/** Lambda's limit on layers per function. */
const maxLayersPerFunction = 5;
const layerNamePattern = /^[A-Za-z0-9_-]{1,140}$/;
const layerVersionArnPattern = /^arn:[A-Za-z0-9-]+:lambda:[A-Za-z0-9-]+:\d{12}:layer:([A-Za-z0-9_-]+):(\d+)$/;

function listItem(layer: LayerVersion): Record<string, unknown> {
  return {
    LayerVersionArn: layer.layerVersionArn,
    Version: layer.version,
    Description: layer.description,
    CreatedDate: layer.createdDate,
    CompatibleRuntimes: layer.compatibleRuntimes,
    CompatibleArchitectures: layer.compatibleArchitectures,
    LicenseInfo: layer.licenseInfo,
  };
}

function stringList(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw lambdaApiErrors.invalid(`${field} must be a list of strings`);
  }
  return value as string[];
}

/**
 * Lambda layers: PublishLayerVersion, GetLayerVersion(ByArn), ListLayerVersions, ListLayers,
 * DeleteLayerVersion, in the API's JSON shapes; and what a function's `Layers` become: the layer
 * versions, checked (at most five, each published and not deleted), and the directory that stands in
 * for `/opt`, where Lambda extracts a function's layers in the order given (later ones overwrite).
 */
export class LayerStore {
  private readonly layers = new Map<string, Layer>();
  /** Merged `/opt` directories, one per distinct ordered list of two or more layer versions. */
  private readonly mergedOptDirs = new Map<string, string>();

  constructor(
    private readonly region: string,
    private readonly codeStore: CodeStore,
  ) {}

  publish(name: string, body: Record<string, unknown>): Record<string, unknown> {
    if (!layerNamePattern.test(name)) {
      throw lambdaApiErrors.invalid(
        `1 validation error detected: Value '${name}' at 'layerName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+`,
      );
    }
    const content = body.Content as Record<string, unknown> | undefined;
    if (!content) throw lambdaApiErrors.invalid('Content is required: ZipFile or S3Bucket/S3Key');
    const compatibleRuntimes = stringList(body.CompatibleRuntimes, 'CompatibleRuntimes');
    const compatibleArchitectures = stringList(body.CompatibleArchitectures, 'CompatibleArchitectures');
    const stored = this.codeStore.store(`layer-${name}`, content);
    let layer = this.layers.get(name);
    if (!layer) {
      layer = { versions: new Map(), lastVersion: 0 };
      this.layers.set(name, layer);
    }
    layer.lastVersion += 1;
    const version: LayerVersion = {
      layerName: name,
      version: layer.lastVersion,
      layerArn: layerArn(this.region, name),
      layerVersionArn: layerArn(this.region, name, layer.lastVersion),
      description: typeof body.Description === 'string' ? body.Description : '',
      createdDate: lambdaTimestamp(),
      compatibleRuntimes,
      compatibleArchitectures,
      licenseInfo: typeof body.LicenseInfo === 'string' ? body.LicenseInfo : undefined,
      content: stored,
      deleted: false,
    };
    layer.versions.set(version.version, version);
    return this.describe(version);
  }

  describe(layer: LayerVersion): Record<string, unknown> {
    return {
      Content: {
        Location: `file://${layer.content.codeDir}`,
        CodeSha256: layer.content.sha256,
        CodeSize: layer.content.size,
      },
      LayerArn: layer.layerArn,
      ...listItem(layer),
    };
  }

  /** A layer version that exists and is not deleted, or the API's 404. */
  get(name: string, version: number): LayerVersion {
    const found = this.layers.get(name)?.versions.get(version);
    if (!found || found.deleted) {
      throw lambdaApiErrors.notFound(`Layer version ${layerArn(this.region, name, version)} does not exist.`);
    }
    return found;
  }

  getByArn(arn: string): LayerVersion {
    const match = layerVersionArnPattern.exec(arn);
    if (!match) throw lambdaApiErrors.invalid(`${arn} is not a layer version ARN`);
    return this.get(match[1] as string, Number(match[2]));
  }

  /** ListLayerVersions: newest first, filtered by compatible runtime and architecture. */
  listVersions(name: string, query: URLSearchParams): Record<string, unknown> {
    const versions = [...(this.layers.get(name)?.versions.values() ?? [])]
      .filter((layer) => !layer.deleted && matches(layer, query))
      .sort((a, b) => b.version - a.version);
    return { LayerVersions: versions.map(listItem) };
  }

  /** ListLayers: each layer with its newest version that matches the filters. */
  listLayers(query: URLSearchParams): Record<string, unknown> {
    const layers: Record<string, unknown>[] = [];
    for (const [name, layer] of [...this.layers].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const newest = [...layer.versions.values()]
        .filter((version) => !version.deleted && matches(version, query))
        .sort((a, b) => b.version - a.version)[0];
      if (newest) {
        layers.push({ LayerName: name, LayerArn: newest.layerArn, LatestMatchingVersion: listItem(newest) });
      }
    }
    return { Layers: layers };
  }

  /** The content of every layer version not deleted (what counts as stored code). */
  stored(): StoredCode[] {
    return [...this.layers.values()].flatMap((layer) =>
      [...layer.versions.values()].filter((version) => !version.deleted).map((version) => version.content),
    );
  }

  /**
   * DeleteLayerVersion: the version can no longer be read or added to a function; functions that use
   * it keep their copy (its files go with the last of them). Deleting a missing version succeeds, as
   * on Lambda.
   */
  delete(name: string, version: number): void {
    const found = this.layers.get(name)?.versions.get(version);
    if (!found || found.deleted) return;
    found.deleted = true;
    this.codeStore.release(found.content);
  }

  /**
   * A function's `Layers` (layer version ARNs) → the layer versions, each retained for the function
   * version that uses them. At most five; each must exist and not be deleted.
   */
  resolve(value: unknown): LayerVersion[] {
    const arns = stringList(value, 'Layers');
    if (arns.length > maxLayersPerFunction) {
      throw lambdaApiErrors.invalid(
        `Cannot reference more than ${maxLayersPerFunction} layers (got ${arns.length}).`,
      );
    }
    const layers = arns.map((arn) => {
      const match = layerVersionArnPattern.exec(arn);
      if (!match) throw lambdaApiErrors.invalid(`Layer version ARN ${arn} is not valid.`);
      const found = this.layers.get(match[1] as string)?.versions.get(Number(match[2]));
      if (!found || found.deleted) {
        throw lambdaApiErrors.invalid(`Layer version ${arn} does not exist.`);
      }
      return found;
    });
    for (const layer of layers) this.codeStore.retain(layer.content);
    return layers;
  }

  /** Lets go of what `resolve` retained. */
  release(layers: readonly LayerVersion[]): void {
    for (const layer of layers) this.codeStore.release(layer.content);
  }

  /**
   * The directory that stands in for `/opt`: none without layers, the layer's own directory for one,
   * and for several a merged copy (in order, later layers overwriting earlier files), made once.
   */
  optDirFor(layers: readonly LayerVersion[]): string | undefined {
    if (layers.length === 0) return undefined;
    if (layers.length === 1) return layers[0]?.content.codeDir;
    const key = createHash('sha256')
      .update(layers.map((layer) => layer.layerVersionArn).join('\n'))
      .digest('hex')
      .slice(0, 16);
    let dir = this.mergedOptDirs.get(key);
    if (!dir) {
      dir = join(this.codeStore.workDir, `opt-${key}`);
      mkdirSync(dir, { recursive: true });
      for (const layer of layers) cpSync(layer.content.codeDir, dir, { recursive: true, force: true });
      this.mergedOptDirs.set(key, dir);
    }
    return dir;
  }
}

function matches(layer: LayerVersion, query: URLSearchParams): boolean {
  const runtime = query.get('CompatibleRuntime');
  const architecture = query.get('CompatibleArchitecture');
  if (runtime && !layer.compatibleRuntimes.includes(runtime)) return false;
  if (architecture && !layer.compatibleArchitectures.includes(architecture)) return false;
  return true;
}

/**
 * Lambda's size rule for a function with layers: code and layers together at most 250 MB unzipped.
 * Checked when any part came as a zip (a local directory, the runtime's own extension, is not held to it).
 */
export function checkCombinedSize(code: StoredCode, layers: readonly LayerVersion[]): void {
  const parts = [code, ...layers.map((layer) => layer.content)];
  if (!parts.some((part) => part.zipped)) return;
  const total = parts.reduce((sum, part) => sum + part.unzippedBytes, 0);
  if (total > lambdaLimits.unzippedCodeBytes) {
    throw lambdaApiErrors.invalid(
      `Function code combined with layers exceeds the maximum allowed size of ${lambdaLimits.unzippedCodeBytes} bytes. The actual size is ${total} bytes.`,
    );
  }
}
