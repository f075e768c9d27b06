import { randomUUID } from 'node:crypto';
import { lambdaLimits } from '@switchyard/core';
import type { CodeStore, StoredCode } from './code-store.js';
import { lambdaApiErrors } from './errors.js';
import type { FunctionInstance } from './function-instance.js';
import { functionArn } from './protocol.js';

/** GetFunctionConfiguration's answer, as the runtime keeps it (fields the runtime reads are typed). */
export type FunctionConfiguration = Record<string, unknown> & {
  FunctionName: string;
  MemorySize: number;
  Timeout: number;
  Handler: string;
};

/** One function: its configuration and code, and the state the instance pool keeps on it. */
export interface FunctionRecord {
  configuration: FunctionConfiguration;
  environment: Record<string, string>;
  tags: Record<string, string>;
  code: StoredCode;
  /** Bumped by every code or configuration update; instances of older revisions are retired. */
  revision: number;
  reservedConcurrency: number | undefined;
  /** Invokes of this function admitted and not yet finished. */
  inFlight: number;
  instances: Set<FunctionInstance>;
}

/** What the registry tells the instance pool. */
export interface RegistryEvents {
  /** A new revision: instances of the old one are retired (idle ones now, busy ones when they finish). */
  revised(record: FunctionRecord): void;
  /** The function was deleted: its instances are stopped. */
  deleted(record: FunctionRecord): Promise<void>;
}

const functionNamePattern = /^[A-Za-z0-9_-]{1,64}$/;

function lambdaTimestamp(date = new Date()): string {
  return date.toISOString().replace('Z', '+0000');
}

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
}

/**
 * The functions the runtime knows and the control-plane operations on them (Create, Get, List,
 * UpdateFunctionConfiguration, UpdateFunctionCode, Delete, reserved concurrency, account settings),
 * answered in the Lambda API's JSON shapes.
 */
export class FunctionRegistry {
  private readonly functions = new Map<string, FunctionRecord>();

  constructor(
    private readonly options: { region: string; accountConcurrency: number },
    private readonly codeStore: CodeStore,
    private readonly events: RegistryEvents,
  ) {}

  records(): IterableIterator<FunctionRecord> {
    return this.functions.values();
  }

  has(name: string): boolean {
    return this.functions.has(name);
  }

  /** The function named `name`, or the API's 404. */
  get(name: string): FunctionRecord {
    const record = this.functions.get(name);
    if (!record) throw lambdaApiErrors.notFound(this.arn(name));
    return record;
  }

  arn(name: string): string {
    return functionArn(this.options.region, name);
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
    validateSettings(body);
    const code = this.codeStore.store(name, (body.Code as Record<string, unknown> | undefined) ?? {});
    // CreateFunction's defaults: 3 s, and the smallest memory size and /tmp.
    const record: FunctionRecord = {
      configuration: {
        FunctionName: name,
        FunctionArn: this.arn(name),
        Runtime: String(body.Runtime ?? 'nodejs20.x'),
        Role: String(body.Role ?? 'arn:aws:iam::000000000000:role/lambda-role'),
        Handler: body.Handler,
        CodeSize: code.size,
        Description: String(body.Description ?? ''),
        Timeout: (body.Timeout as number | undefined) ?? 3,
        MemorySize: (body.MemorySize as number | undefined) ?? lambdaLimits.minMemoryMB,
        LastModified: lambdaTimestamp(),
        CodeSha256: code.sha256,
        Version: '$LATEST',
        State: 'Active',
        LastUpdateStatus: 'Successful',
        PackageType: 'Zip',
        Architectures: (body.Architectures as string[] | undefined) ?? ['x86_64'],
        EphemeralStorage: { Size: lambdaLimits.minEphemeralStorageMB },
        RevisionId: randomUUID(),
      },
      environment: (body.Environment as { Variables?: Record<string, string> } | undefined)?.Variables ?? {},
      tags: (body.Tags as Record<string, string> | undefined) ?? {},
      code,
      revision: 0,
      reservedConcurrency: undefined,
      inFlight: 0,
      instances: new Set(),
    };
    this.functions.set(name, record);
    return this.configurationOf(record);
  }

  configurationOf(record: FunctionRecord): Record<string, unknown> {
    const hasEnvironment = Object.keys(record.environment).length > 0;
    return {
      ...record.configuration,
      Environment: hasEnvironment ? { Variables: record.environment } : undefined,
    };
  }

  describe(record: FunctionRecord): Record<string, unknown> {
    const reserved = record.reservedConcurrency;
    return {
      Configuration: this.configurationOf(record),
      Code: { RepositoryType: 'S3', Location: `file://${record.code.codeDir}` },
      Tags: record.tags,
      Concurrency: reserved === undefined ? undefined : { ReservedConcurrentExecutions: reserved },
    };
  }

  /** ListFunctions: names in order, `MaxItems` per page (50 by default), `Marker` to continue. */
  list(marker: string | null, maxItemsParameter: string | null): Record<string, unknown> {
    const names = [...this.functions.keys()].sort();
    const maxItems = Math.min(Number(maxItemsParameter ?? 50) || 50, 10000);
    const start = marker ? names.findIndex((name) => name > marker) : 0;
    const page = start < 0 ? [] : names.slice(start, start + maxItems);
    const last = page.at(-1);
    return {
      Functions: page.map((name) => this.configurationOf(this.functions.get(name) as FunctionRecord)),
      NextMarker: last && start + maxItems < names.length ? last : undefined,
    };
  }

  updateConfiguration(record: FunctionRecord, body: Record<string, unknown>): Record<string, unknown> {
    validateSettings(body);
    for (const key of ['MemorySize', 'Timeout', 'Handler', 'Description', 'Role', 'Runtime'] as const) {
      if (body[key] !== undefined) (record.configuration as Record<string, unknown>)[key] = body[key];
    }
    const variables = (body.Environment as { Variables?: Record<string, string> } | undefined)?.Variables;
    if (variables) record.environment = variables;
    this.revise(record);
    return this.configurationOf(record);
  }

  updateCode(record: FunctionRecord, body: Record<string, unknown>): Record<string, unknown> {
    const code = this.codeStore.store(record.configuration.FunctionName, body);
    this.codeStore.remove(record.code);
    record.code = code;
    record.configuration.CodeSha256 = code.sha256;
    record.configuration.CodeSize = code.size;
    this.revise(record);
    return this.configurationOf(record);
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

  async delete(record: FunctionRecord): Promise<void> {
    this.functions.delete(record.configuration.FunctionName);
    await this.events.deleted(record);
    this.codeStore.remove(record.code);
  }

  /** GetAccountSettings: the account's concurrency and Lambda's code size limits. */
  accountSettings(): Record<string, unknown> {
    return {
      AccountLimit: {
        ConcurrentExecutions: this.options.accountConcurrency,
        UnreservedConcurrentExecutions: this.options.accountConcurrency - this.reservedTotal(),
        CodeSizeUnzipped: lambdaLimits.unzippedCodeBytes,
        CodeSizeZipped: lambdaLimits.zippedCodeBytes,
        TotalCodeSize: 80530636800,
      },
      AccountUsage: { FunctionCount: this.functions.size, TotalCodeSize: 0 },
    };
  }

  /** Removes every function's unzipped code (the runtime is stopping; instances are stopped already). */
  clear(): void {
    for (const record of this.functions.values()) this.codeStore.remove(record.code);
    this.functions.clear();
  }

  private revise(record: FunctionRecord): void {
    record.revision += 1;
    record.configuration.LastModified = lambdaTimestamp();
    record.configuration.RevisionId = randomUUID();
    this.events.revised(record);
  }
}
