import type { StoredCode } from './code-store.js';
import type { FunctionInstance } from './function-instance.js';
import type { LayerVersion } from './layer-store.js';
import type { NodeRuntime } from './runtimes.js';

/** GetFunctionConfiguration's answer, as the runtime keeps it (fields the runtime reads are typed). */
export type FunctionConfiguration = Record<string, unknown> & {
  FunctionName: string;
  FunctionArn: string;
  Runtime: NodeRuntime;
  Role: string;
  Handler: string;
  MemorySize: number;
  Timeout: number;
  Version: string;
  Architectures: string[];
};

/** Lambda's lifecycle states of a function (or a published version) and of its last update. */
export type FunctionState = 'Pending' | 'Active';
export type UpdateStatus = 'InProgress' | 'Successful';

/**
 * One runnable version of a function: `$LATEST` (one object per successful update: a new
 * configuration or code is a new object, and the old one retires with its instances) or a published
 * version, frozen. Instances belong to the version they run.
 */
export interface FunctionVersion {
  readonly functionName: string;
  /** `$LATEST`, or the published version number as a string. */
  readonly version: string;
  configuration: FunctionConfiguration;
  environment: Record<string, string>;
  code: StoredCode;
  layers: LayerVersion[];
  /** The directory that stands in for `/opt` (the layers, extracted in order), if there are layers. */
  optDir: string | undefined;
  /** Counts the `$LATEST` objects of a function (names the instances' log streams). */
  revision: number;
  /** A published version is Pending until its transition delay has passed. */
  state: FunctionState;
  /** Replaced by a later `$LATEST` or deleted: its instances stop once idle. */
  retired: boolean;
  instances: Set<FunctionInstance>;
  /** Instances provisioned concurrency keeps initialised for this version. */
  provisionedTarget: number;
}

/** An alias: a name for one version, optionally routing a weight of its invocations to a second. */
export interface AliasRecord {
  name: string;
  functionVersion: string;
  description: string;
  /** `RoutingConfig.AdditionalVersionWeights`: version → share of invocations (0–1). */
  additionalVersionWeights: Record<string, number>;
  revisionId: string;
}

/** A provisioned-concurrency configuration on a version or an alias. */
export interface ProvisionedConfig {
  qualifier: string;
  requested: number;
  lastModified: string;
  /** Set when an instance it asked for failed INIT. */
  failure: string | undefined;
}

/** One function: its `$LATEST`, an update in progress, published versions, aliases and settings. */
export interface FunctionRecord {
  name: string;
  /** Pending from CreateFunction until the transition delay has passed, then Active. */
  state: FunctionState;
  /** What `$LATEST` invocations run: the function as of its last successful update. */
  latest: FunctionVersion;
  /** An update in progress: what GetFunction reports (LastUpdateStatus InProgress) until it takes over. */
  update: FunctionVersion | undefined;
  versions: Map<string, FunctionVersion>;
  /** The highest version number published (numbers are never reused). */
  lastVersionNumber: number;
  /** The `$LATEST` revision the last published version froze (publishing it again returns that version). */
  lastPublishedRevision: number | undefined;
  aliases: Map<string, AliasRecord>;
  tags: Record<string, string>;
  reservedConcurrency: number | undefined;
  provisioned: Map<string, ProvisionedConfig>;
  /** Invokes of this function admitted and not yet finished. */
  inFlight: number;
}

/** Lambda's timestamp format (`2026-11-02T10:00:00.000+0000`). */
export function lambdaTimestamp(date = new Date()): string {
  return date.toISOString().replace('Z', '+0000');
}

/** Every version of a function that runs or may run: `$LATEST` (and an update in progress) and the published ones. */
export function versionsOf(record: FunctionRecord): FunctionVersion[] {
  return [record.latest, ...(record.update ? [record.update] : []), ...record.versions.values()];
}
