import { randomUUID } from 'node:crypto';
import { lambdaLimits } from '@switchyard/core';
import type { CodeStore, StoredCode } from './code-store.js';
import { lambdaApiErrors } from './errors.js';
import {
  type FunctionConfiguration,
  type FunctionRecord,
  type FunctionVersion,
  lambdaTimestamp,
  versionsOf,
} from './function-record.js';
import { checkCombinedSize, type LayerStore, type LayerVersion } from './layer-store.js';
import { functionArn } from './protocol.js';
import { checkRuntime } from './runtimes.js';

/** What the registry tells the instance pool. */
export interface RegistryEvents {
  /** A version stopped being runnable (replaced `$LATEST`, deleted version or function): its instances stop once idle. */
  retired(version: FunctionVersion): void;
  /** Versions or aliases changed under a function: its provisioned concurrency is allocated again. */
  changed(record: FunctionRecord): void;
}

export interface RegistryOptions {
  region: string;
  accountConcurrency: number;
  /** How long Pending (and an update's InProgress) lasts. */
  stateTransitionMs: number;
}

const functionNamePattern = /^[A-Za-z0-9_-]{1,64}$/;
const versionNumberPattern = /^\d+$/;
/** Lambda's limits on tags: 50 per resource, keys up to 128 characters, values up to 256. */
const tagLimits = { perResource: 50, keyLength: 128, valueLength: 256 };
const functionArnPattern =
  /^arn:[A-Za-z0-9-]+:lambda:[A-Za-z0-9-]+:\d{12}:function:([A-Za-z0-9_-]+)(?::(.+))?$/;

/** MemorySize and Timeout as CreateFunction / UpdateFunctionConfiguration validate them. */
function validateSettings(body: Record<string, unknown>): void {
  const { minMemoryMB, maxMemoryMB, maxTimeoutS } = lambdaLimits;
  const checks = [
    { field: 'memorySize', value: body.MemorySize, min: minMemoryMB, max: maxMemoryMB },
    { field: 'timeout', value: body.Timeout, min: 1, max: maxTimeoutS },
  ];
  for (const { field, value, min, max } of checks) {
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw lambdaApiErrors.invalid(
        `1 validation error detected: Value '${String(value)}' at '${field}' failed to satisfy constraint: Member must have value between ${min} and ${max}`,
      );
    }
  }
  const architectures = body.Architectures;
  if (architectures !== undefined) {
    const valid =
      Array.isArray(architectures) &&
      architectures.length === 1 &&
      (architectures[0] === 'x86_64' || architectures[0] === 'arm64');
    if (!valid) {
      throw lambdaApiErrors.invalid(
        `Architectures must be one of ['x86_64'] or ['arm64'], got ${JSON.stringify(architectures)}`,
      );
    }
  }
}

function variablesOf(body: Record<string, unknown>): Record<string, string> | undefined {
  return (body.Environment as { Variables?: Record<string, string> } | undefined)?.Variables;
}

function maxItemsOf(query: URLSearchParams, fallback: number): number {
  return Math.min(Number(query.get('MaxItems') ?? fallback) || fallback, 10_000);
}

/** One page of `items` (sorted by `key`) after `Marker`, and the marker of the next page. */
function page<T>(items: T[], key: (item: T) => string, query: URLSearchParams, fallback = 50) {
  const marker = query.get('Marker');
  const maxItems = maxItemsOf(query, fallback);
  const start = marker ? items.findIndex((item) => key(item) > marker) : 0;
  const slice = start < 0 ? [] : items.slice(start, start + maxItems);
  const last = slice.at(-1);
  return {
    items: slice,
    nextMarker: last !== undefined && start + maxItems < items.length ? key(last) : undefined,
  };
}

/**
 * The functions the runtime knows and their control-plane operations, answered in the Lambda API's
 * JSON shapes: Create/Get/List/Update(Configuration|Code)/Delete, PublishVersion and
 * ListVersionsByFunction, reserved concurrency, tags, account settings. Functions move through
 * Lambda's states: Pending for `stateTransitionMs` after CreateFunction (a published version too),
 * and an update is InProgress as long — invocations meanwhile run the previous code and configuration,
 * and a second update or a PublishVersion answers ResourceConflictException, as on Lambda.
 */
export class FunctionRegistry {
  private readonly functions = new Map<string, FunctionRecord>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly options: RegistryOptions,
    private readonly codeStore: CodeStore,
    private readonly layers: LayerStore,
    private readonly events: RegistryEvents,
  ) {}

  records(): IterableIterator<FunctionRecord> {
    return this.functions.values();
  }

  has(record: FunctionRecord): boolean {
    return this.functions.get(record.name) === record;
  }

  /** The function named `name`, or the API's 404. */
  get(name: string): FunctionRecord {
    const record = this.functions.get(name);
    if (!record) throw lambdaApiErrors.functionNotFound(this.arn(name));
    return record;
  }

  arn(name: string, qualifier?: string): string {
    return functionArn(this.options.region, name, qualifier);
  }

  /** Reserved concurrency of all functions but `except`. */
  reservedTotal(except?: FunctionRecord): number {
    let total = 0;
    for (const record of this.functions.values()) {
      if (record !== except) total += record.reservedConcurrency ?? 0;
    }
    return total;
  }

  create(body: Record<string, unknown>): Record<string, unknown> {
    const name = String(body.FunctionName ?? '');
    if (!functionNamePattern.test(name)) {
      throw lambdaApiErrors.invalid(
        `1 validation error detected: Value '${name}' at 'functionName' failed to satisfy constraint`,
      );
    }
    if (this.functions.has(name)) throw lambdaApiErrors.conflict(`Function already exist: ${name}`);
    if (typeof body.Handler !== 'string' || body.Handler.length === 0) {
      throw lambdaApiErrors.invalid('The Handler parameter is required for Zip package type functions');
    }
    const runtime = checkRuntime(body.Runtime);
    validateSettings(body);
    const layers = this.layers.resolve(body.Layers);
    let code: StoredCode;
    try {
      code = this.codeStore.store(name, (body.Code as Record<string, unknown> | undefined) ?? {});
    } catch (error) {
      this.layers.release(layers);
      throw error;
    }
    this.checkSize(code, layers);
    // CreateFunction's defaults: 3 s, and the smallest memory size and /tmp.
    const configuration: FunctionConfiguration = {
      FunctionName: name,
      FunctionArn: this.arn(name),
      Runtime: runtime,
      Role: String(body.Role ?? 'arn:aws:iam::000000000000:role/lambda-role'),
      Handler: body.Handler,
      CodeSize: code.size,
      Description: String(body.Description ?? ''),
      Timeout: (body.Timeout as number | undefined) ?? 3,
      MemorySize: (body.MemorySize as number | undefined) ?? lambdaLimits.minMemoryMB,
      LastModified: lambdaTimestamp(),
      CodeSha256: code.sha256,
      Version: '$LATEST',
      PackageType: 'Zip',
      Architectures: (body.Architectures as string[] | undefined) ?? ['x86_64'],
      EphemeralStorage: { Size: lambdaLimits.minEphemeralStorageMB },
      RevisionId: randomUUID(),
    };
    const latest = this.newVersion(name, '$LATEST', configuration, variablesOf(body) ?? {}, code, layers, 0);
    const record: FunctionRecord = {
      name,
      state: 'Pending',
      latest,
      update: undefined,
      versions: new Map(),
      lastVersionNumber: 0,
      lastPublishedRevision: undefined,
      aliases: new Map(),
      tags: this.checkedTags({}, body.Tags),
      reservedConcurrency: undefined,
      provisioned: new Map(),
      inFlight: 0,
    };
    this.functions.set(name, record);
    const published = body.Publish === true ? this.publishFrom(record, latest, {}) : undefined;
    this.later(record, () => {
      record.state = 'Active';
      latest.state = 'Active';
    });
    return this.configurationOf(record, published ?? latest);
  }

  /**
   * GetFunctionConfiguration's answer for `version` (default: what `$LATEST` reports — an update in
   * progress, if there is one), with Lambda's state fields.
   */
  configurationOf(record: FunctionRecord, version?: FunctionVersion): Record<string, unknown> {
    const shown = version ?? record.update ?? record.latest;
    const isLatest = shown.version === '$LATEST';
    const state = isLatest ? record.state : shown.state;
    const environment = shown.environment;
    const status: Record<string, unknown> =
      state === 'Pending'
        ? { State: 'Pending', StateReason: 'The function is being created.', StateReasonCode: 'Creating' }
        : { State: 'Active', LastUpdateStatus: 'Successful' };
    if (isLatest && state === 'Active' && record.update) {
      status.LastUpdateStatus = 'InProgress';
      status.LastUpdateStatusReason = 'The function is being updated.';
      status.LastUpdateStatusReasonCode = 'Updating';
    }
    return {
      ...shown.configuration,
      Environment: Object.keys(environment).length > 0 ? { Variables: environment } : undefined,
      Layers:
        shown.layers.length > 0
          ? shown.layers.map((layer) => ({ Arn: layer.layerVersionArn, CodeSize: layer.content.size }))
          : undefined,
      ...status,
    };
  }

  /** GetFunction: configuration, code location, tags and reserved concurrency. */
  describe(record: FunctionRecord, qualifier: string | null): Record<string, unknown> {
    const version = qualifier === null ? undefined : this.resolveVersion(record, qualifier);
    const reserved = record.reservedConcurrency;
    return {
      Configuration: this.configurationOf(record, version),
      Code: { RepositoryType: 'S3', Location: `file://${(version ?? record.latest).code.codeDir}` },
      Tags: record.tags,
      Concurrency: reserved === undefined ? undefined : { ReservedConcurrentExecutions: reserved },
    };
  }

  /**
   * The version a qualifier names for the control plane: `$LATEST` (as reported: an update in
   * progress included), a published version number, or an alias (its primary version).
   */
  resolveVersion(record: FunctionRecord, qualifier: string): FunctionVersion {
    if (qualifier === '$LATEST') return record.update ?? record.latest;
    const alias = record.aliases.get(qualifier);
    const version = record.versions.get(alias ? alias.functionVersion : qualifier);
    if (!version) throw lambdaApiErrors.functionNotFound(this.arn(record.name, qualifier));
    return version;
  }

  /** ListFunctions: names in order, `MaxItems` per page (50 by default); `FunctionVersion=ALL` adds published versions. */
  list(query: URLSearchParams): Record<string, unknown> {
    const all = query.get('FunctionVersion') === 'ALL';
    const names = [...this.functions.keys()].sort();
    const { items, nextMarker } = page(names, (name) => name, query);
    return {
      Functions: items.flatMap((name) => {
        const record = this.functions.get(name) as FunctionRecord;
        const versions = all ? [...record.versions.values()] : [];
        return [
          this.configurationOf(record),
          ...versions.map((version) => this.configurationOf(record, version)),
        ];
      }),
      NextMarker: nextMarker,
    };
  }

  updateConfiguration(record: FunctionRecord, body: Record<string, unknown>): Record<string, unknown> {
    this.checkUpdatable(record, body.RevisionId);
    validateSettings(body);
    if (body.Architectures !== undefined) {
      throw lambdaApiErrors.invalid(
        'Architectures is set with UpdateFunctionCode, not UpdateFunctionConfiguration',
      );
    }
    const runtime = body.Runtime === undefined ? undefined : checkRuntime(body.Runtime);
    const current = record.latest;
    const layers = body.Layers === undefined ? undefined : this.layers.resolve(body.Layers);
    if (layers) this.checkSize(current.code, layers, () => this.layers.release(layers));
    const configuration: FunctionConfiguration = { ...current.configuration };
    for (const key of ['MemorySize', 'Timeout', 'Handler', 'Description', 'Role'] as const) {
      if (body[key] !== undefined) (configuration as Record<string, unknown>)[key] = body[key];
    }
    if (runtime) configuration.Runtime = runtime;
    const next = this.newVersion(
      record.name,
      '$LATEST',
      configuration,
      variablesOf(body) ?? current.environment,
      this.codeStore.retain(current.code),
      layers ?? this.retainLayers(current.layers),
      current.revision + 1,
    );
    return this.beginUpdate(record, next);
  }

  updateCode(record: FunctionRecord, body: Record<string, unknown>): Record<string, unknown> {
    this.checkUpdatable(record, body.RevisionId);
    if (body.Architectures !== undefined) validateSettings({ Architectures: body.Architectures });
    const current = record.latest;
    const code = this.codeStore.store(record.name, body);
    const layers = this.retainLayers(current.layers);
    this.checkSize(code, layers, () => {
      this.codeStore.release(code);
      this.layers.release(layers);
    });
    const configuration: FunctionConfiguration = {
      ...current.configuration,
      CodeSha256: code.sha256,
      CodeSize: code.size,
      Architectures: (body.Architectures as string[] | undefined) ?? current.configuration.Architectures,
    };
    const next = this.newVersion(
      record.name,
      '$LATEST',
      configuration,
      current.environment,
      code,
      layers,
      current.revision + 1,
    );
    const answer = this.beginUpdate(record, next);
    if (body.Publish !== true) return answer;
    return this.configurationOf(record, this.publishFrom(record, next, {}));
  }

  /**
   * PublishVersion: freezes `$LATEST` as the next version number (Pending, then Active). Without a
   * change since the last published version, answers that version, as Lambda does. Refused while the
   * function is Pending or an update is in progress; `CodeSha256` and `RevisionId` must match `$LATEST`.
   */
  publishVersion(record: FunctionRecord, body: Record<string, unknown>): Record<string, unknown> {
    this.checkUpdatable(record, body.RevisionId);
    const latest = record.latest;
    if (typeof body.CodeSha256 === 'string' && body.CodeSha256 !== latest.configuration.CodeSha256) {
      throw lambdaApiErrors.invalid(
        `CodeSHA256 (${body.CodeSha256}) is different from current CodeSHA256 in $LATEST (${String(latest.configuration.CodeSha256)}). Please try again with the CodeSHA256 in $LATEST.`,
      );
    }
    if (record.lastPublishedRevision === latest.revision) {
      const last = record.versions.get(String(record.lastVersionNumber));
      if (last) return this.configurationOf(record, last);
    }
    return this.configurationOf(record, this.publishFrom(record, latest, body));
  }

  /** ListVersionsByFunction: `$LATEST`, then the published versions in order. */
  listVersions(record: FunctionRecord, query: URLSearchParams): Record<string, unknown> {
    const versions = [record.update ?? record.latest, ...record.versions.values()];
    // Marker order: `$LATEST` first, then versions by number (padded so the text order matches).
    const key = (version: FunctionVersion) =>
      version.version === '$LATEST' ? '' : version.version.padStart(12, '0');
    const { items, nextMarker } = page(versions, key, query);
    return {
      Versions: items.map((version) => this.configurationOf(record, version)),
      NextMarker: nextMarker,
    };
  }

  putConcurrency(record: FunctionRecord, body: Record<string, unknown>): Record<string, unknown> {
    const value = body.ReservedConcurrentExecutions;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw lambdaApiErrors.invalid('ReservedConcurrentExecutions must be a non-negative integer');
    }
    if (this.reservedTotal(record) + value > this.options.accountConcurrency) {
      throw lambdaApiErrors.invalid(
        `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [0].`,
      );
    }
    const provisioned = [...record.provisioned.values()].reduce((sum, config) => sum + config.requested, 0);
    if (value < provisioned) {
      throw lambdaApiErrors.invalid(
        `ReservedConcurrentExecutions ${value} is below the function's provisioned concurrency (${provisioned}).`,
      );
    }
    record.reservedConcurrency = value;
    return { ReservedConcurrentExecutions: value };
  }

  getConcurrency(record: FunctionRecord): Record<string, unknown> {
    const reserved = record.reservedConcurrency;
    return reserved === undefined ? {} : { ReservedConcurrentExecutions: reserved };
  }

  deleteConcurrency(record: FunctionRecord): void {
    record.reservedConcurrency = undefined;
  }

  /**
   * DeleteFunction: the whole function, or with a qualifier one published version (not `$LATEST`,
   * not an alias, not a version an alias points at).
   */
  delete(record: FunctionRecord, qualifier: string | null): void {
    if (qualifier === null) {
      this.functions.delete(record.name);
      for (const version of versionsOf(record)) this.dispose(version);
      return;
    }
    if (qualifier === '$LATEST') {
      throw lambdaApiErrors.invalid('$LATEST version cannot be deleted without deleting the function.');
    }
    if (!versionNumberPattern.test(qualifier)) {
      throw lambdaApiErrors.invalid(
        `Deletion of aliases is not supported with DeleteFunction; use DeleteAlias for '${qualifier}'.`,
      );
    }
    const version = record.versions.get(qualifier);
    if (!version) throw lambdaApiErrors.functionNotFound(this.arn(record.name, qualifier));
    const referencing = [...record.aliases.values()]
      .filter((alias) => alias.functionVersion === qualifier || qualifier in alias.additionalVersionWeights)
      .map((alias) => alias.name);
    if (referencing.length > 0) {
      throw lambdaApiErrors.conflict(
        `Unable to delete version because the following aliases reference it: [${referencing.join(', ')}]`,
      );
    }
    record.versions.delete(qualifier);
    record.provisioned.delete(qualifier);
    this.dispose(version);
    this.events.changed(record);
  }

  /**
   * GetAccountSettings: the account's concurrency, Lambda's code size limits and what is stored
   * (function code and layer archives, each once).
   */
  accountSettings(): Record<string, unknown> {
    const stored = new Set<StoredCode>(this.layers.stored());
    for (const record of this.functions.values()) {
      for (const version of versionsOf(record)) {
        stored.add(version.code);
        for (const layer of version.layers) stored.add(layer.content);
      }
    }
    const totalCodeSize = [...stored].reduce((sum, code) => sum + code.size, 0);
    return {
      AccountLimit: {
        ConcurrentExecutions: this.options.accountConcurrency,
        UnreservedConcurrentExecutions: this.options.accountConcurrency - this.reservedTotal(),
        CodeSizeUnzipped: lambdaLimits.unzippedCodeBytes,
        CodeSizeZipped: lambdaLimits.zippedCodeBytes,
        TotalCodeSize: 80530636800,
      },
      AccountUsage: { FunctionCount: this.functions.size, TotalCodeSize: totalCodeSize },
    };
  }

  /** The function a tagging call names: an unqualified function ARN (Lambda tags functions, not versions or aliases). */
  taggedFunction(resource: string): FunctionRecord {
    const match = functionArnPattern.exec(resource);
    if (!match) throw lambdaApiErrors.invalid(`${resource} is not a function ARN`);
    if (match[2] !== undefined) {
      throw lambdaApiErrors.invalid(
        'Tags on function aliases and versions are not supported. Please specify a function ARN.',
      );
    }
    return this.get(match[1] as string);
  }

  tag(record: FunctionRecord, body: Record<string, unknown>): void {
    record.tags = this.checkedTags(record.tags, body.Tags);
  }

  untag(record: FunctionRecord, keys: string[]): void {
    const tags = { ...record.tags };
    for (const key of keys) delete tags[key];
    record.tags = tags;
  }

  /** Stops pending state transitions and removes every function's code (the runtime is stopping). */
  clear(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const record of this.functions.values()) {
      for (const version of versionsOf(record)) this.releaseContents(version);
    }
    this.functions.clear();
  }

  /** After `stateTransitionMs`, runs `transition` if `record` still exists. */
  private later(record: FunctionRecord, transition: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.has(record)) transition();
    }, this.options.stateTransitionMs);
    timer.unref();
    this.timers.add(timer);
  }

  private newVersion(
    functionName: string,
    version: string,
    configuration: FunctionConfiguration,
    environment: Record<string, string>,
    code: StoredCode,
    layers: LayerVersion[],
    revision: number,
  ): FunctionVersion {
    return {
      functionName,
      version,
      configuration,
      environment,
      code,
      layers,
      optDir: this.layers.optDirFor(layers),
      revision,
      state: 'Pending',
      retired: false,
      instances: new Set(),
      provisionedTarget: 0,
    };
  }

  /** Updates are refused while the function is Pending or another update is in progress, or on a stale RevisionId. */
  private checkUpdatable(record: FunctionRecord, revisionId: unknown): void {
    if (record.state === 'Pending') throw lambdaApiErrors.pending();
    if (record.update) throw lambdaApiErrors.updateInProgress(this.arn(record.name));
    if (typeof revisionId === 'string' && revisionId !== record.latest.configuration.RevisionId) {
      throw lambdaApiErrors.preconditionFailed('GetFunction or the GetAlias');
    }
  }

  /** An update is InProgress for `stateTransitionMs`; then it becomes `$LATEST` and the old one retires. */
  private beginUpdate(record: FunctionRecord, next: FunctionVersion): Record<string, unknown> {
    next.state = 'Active';
    next.configuration = {
      ...next.configuration,
      LastModified: lambdaTimestamp(),
      RevisionId: randomUUID(),
    };
    record.update = next;
    this.later(record, () => {
      const previous = record.latest;
      record.latest = next;
      record.update = undefined;
      this.dispose(previous);
    });
    return this.configurationOf(record);
  }

  /** A new published version frozen from `source` (Pending, then Active after the transition delay). */
  private publishFrom(
    record: FunctionRecord,
    source: FunctionVersion,
    body: Record<string, unknown>,
  ): FunctionVersion {
    record.lastVersionNumber += 1;
    const number = String(record.lastVersionNumber);
    const version = this.newVersion(
      record.name,
      number,
      {
        ...source.configuration,
        FunctionArn: this.arn(record.name, number),
        Version: number,
        Description:
          typeof body.Description === 'string' ? body.Description : source.configuration.Description,
        LastModified: lambdaTimestamp(),
        RevisionId: randomUUID(),
      },
      source.environment,
      this.codeStore.retain(source.code),
      this.retainLayers(source.layers),
      source.revision,
    );
    record.versions.set(number, version);
    record.lastPublishedRevision = source.revision;
    this.later(record, () => {
      if (record.versions.get(number) !== version) return;
      version.state = 'Active';
      this.events.changed(record);
    });
    return version;
  }

  private retainLayers(layers: LayerVersion[]): LayerVersion[] {
    for (const layer of layers) this.codeStore.retain(layer.content);
    return [...layers];
  }

  private checkSize(code: StoredCode, layers: LayerVersion[], undo?: () => void): void {
    try {
      checkCombinedSize(code, layers);
    } catch (error) {
      undo?.();
      throw error;
    }
  }

  /** A version that will never run again: its instances stop (once idle) and its files go. */
  private dispose(version: FunctionVersion): void {
    version.retired = true;
    this.events.retired(version);
    this.releaseContents(version);
  }

  private releaseContents(version: FunctionVersion): void {
    this.codeStore.release(version.code);
    this.layers.release(version.layers);
  }

  private checkedTags(current: Record<string, string>, value: unknown): Record<string, string> {
    if (value === undefined) return current;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw lambdaApiErrors.invalid('Tags must be a map of strings to strings');
    }
    const tags = { ...current };
    for (const [key, tagValue] of Object.entries(value)) {
      if (typeof tagValue !== 'string' || key.length === 0 || key.length > tagLimits.keyLength) {
        throw lambdaApiErrors.invalid(`Tag '${key}' must have a key of 1–128 characters and a string value`);
      }
      if (tagValue.length > tagLimits.valueLength) {
        throw lambdaApiErrors.invalid(
          `Tag '${key}' has a value longer than ${tagLimits.valueLength} characters`,
        );
      }
      tags[key] = tagValue;
    }
    if (Object.keys(tags).length > tagLimits.perResource) {
      throw lambdaApiErrors.invalid(`A resource can have at most ${tagLimits.perResource} tags`);
    }
    return tags;
  }
}
