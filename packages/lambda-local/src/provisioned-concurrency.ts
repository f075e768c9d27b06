import { lambdaApiErrors } from './errors.js';
import {
  type FunctionRecord,
  type FunctionVersion,
  lambdaTimestamp,
  type ProvisionedConfig,
} from './function-record.js';
import type { FunctionRegistry } from './function-registry.js';

/** What provisioned concurrency needs from the instance pool. */
export interface Provisioner {
  /**
   * Keeps `target` initialised instances of `version` (starting or releasing them); `onFailure` hears
   * of an instance whose INIT failed.
   */
  provision(version: FunctionVersion, target: number, onFailure: (message: string) => void): void;
  /** Provisioned instances of `version` whose INIT is over. */
  readyProvisioned(version: FunctionVersion): number;
}

/**
 * Provisioned concurrency: Put/Get/Delete/ListProvisionedConcurrencyConfigs on a published version or
 * an alias (never `$LATEST`), in the API's JSON shapes, and the instances behind them. The pool starts
 * the requested number of instances ahead of any invoke (`AWS_LAMBDA_INITIALIZATION_TYPE =
 * provisioned-concurrency`); their INIT is not part of an invocation, so invokes they serve report no
 * Init Duration; invokes beyond them spill over to on-demand instances. A config is IN_PROGRESS until
 * its instances are initialised, then READY (FAILED if one fails INIT). An alias's provisioned
 * concurrency follows the alias: moving it to another version allocates it there, and a weighted
 * alias splits it between its two versions by weight. Provisioned concurrency counts against the
 * function's reserved concurrency and the account's unreserved concurrency.
 */
export class ProvisionedConcurrency {
  constructor(
    private readonly registry: FunctionRegistry,
    private readonly provisioner: Provisioner,
    private readonly accountConcurrency: number,
  ) {}

  put(
    record: FunctionRecord,
    qualifier: string | null,
    body: Record<string, unknown>,
  ): Record<string, unknown> {
    const target = this.checkQualifier(record, qualifier);
    const requested = body.ProvisionedConcurrentExecutions;
    if (typeof requested !== 'number' || !Number.isInteger(requested) || requested < 1) {
      throw lambdaApiErrors.invalid('ProvisionedConcurrentExecutions must be an integer of at least 1');
    }
    const others = [...record.provisioned.values()]
      .filter((config) => config.qualifier !== target)
      .reduce((sum, config) => sum + config.requested, 0);
    if (record.reservedConcurrency !== undefined && others + requested > record.reservedConcurrency) {
      throw lambdaApiErrors.invalid(
        `Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function (${record.reservedConcurrency})`,
      );
    }
    if (record.reservedConcurrency === undefined) {
      const unreserved =
        this.accountConcurrency - this.registry.reservedTotal() - this.unreservedProvisioned(record);
      if (others + requested > unreserved) {
        throw lambdaApiErrors.invalid(
          `Requested Provisioned Concurrency (${others + requested}) exceeds the account's unreserved concurrency (${unreserved})`,
        );
      }
    }
    const config: ProvisionedConfig = {
      qualifier: target,
      requested,
      lastModified: lambdaTimestamp(),
      failure: undefined,
    };
    record.provisioned.set(target, config);
    this.reconcile(record);
    return this.describe(record, config);
  }

  get(record: FunctionRecord, qualifier: string | null): Record<string, unknown> {
    const config = record.provisioned.get(this.checkQualifier(record, qualifier));
    if (!config) {
      throw lambdaApiErrors.provisionedConfigNotFound(
        'No Provisioned Concurrency Config found for this function',
      );
    }
    return this.describe(record, config);
  }

  delete(record: FunctionRecord, qualifier: string | null): void {
    if (record.provisioned.delete(this.checkQualifier(record, qualifier))) this.reconcile(record);
  }

  list(record: FunctionRecord): Record<string, unknown> {
    return {
      ProvisionedConcurrencyConfigs: [...record.provisioned.values()].map((config) => ({
        FunctionArn: this.registry.arn(record.name, config.qualifier),
        ...this.describe(record, config),
      })),
    };
  }

  /** Allocates every config of `record` to the versions it covers and tells the pool the totals. */
  reconcile(record: FunctionRecord): void {
    const targets = this.targets(record);
    for (const version of record.versions.values()) {
      this.provisioner.provision(version, targets.get(version) ?? 0, (message) => {
        for (const config of record.provisioned.values()) {
          if (this.allocation(record, config).has(version)) config.failure = message;
        }
      });
    }
  }

  private describe(record: FunctionRecord, config: ProvisionedConfig): Record<string, unknown> {
    const targets = this.targets(record);
    let available = 0;
    let ready = true;
    for (const [version, share] of this.allocation(record, config)) {
      const total = targets.get(version) ?? share;
      const have = Math.min(total, this.provisioner.readyProvisioned(version));
      if (have < total) ready = false;
      available += total === 0 ? 0 : Math.floor((have * share) / total);
    }
    const allocated = this.allocation(record, config).size === 0 ? 0 : config.requested;
    const status = config.failure ? 'FAILED' : ready && allocated > 0 ? 'READY' : 'IN_PROGRESS';
    return {
      RequestedProvisionedConcurrentExecutions: config.requested,
      AvailableProvisionedConcurrentExecutions: ready ? config.requested : available,
      AllocatedProvisionedConcurrentExecutions: allocated,
      Status: status,
      StatusReason: config.failure,
      LastModified: config.lastModified,
    };
  }

  /** Versions the config's instances run on and how many each: an alias splits by its weights. */
  private allocation(record: FunctionRecord, config: ProvisionedConfig): Map<FunctionVersion, number> {
    const shares = new Map<FunctionVersion, number>();
    const add = (versionName: string, count: number): void => {
      const version = record.versions.get(versionName);
      if (version && version.state === 'Active' && count > 0) {
        shares.set(version, (shares.get(version) ?? 0) + count);
      }
    };
    const alias = record.aliases.get(config.qualifier);
    if (!alias) {
      add(config.qualifier, config.requested);
      return shares;
    }
    const [additional] = Object.entries(alias.additionalVersionWeights);
    const toAdditional = additional ? Math.round(config.requested * additional[1]) : 0;
    add(alias.functionVersion, config.requested - toAdditional);
    if (additional) add(additional[0], toAdditional);
    return shares;
  }

  private targets(record: FunctionRecord): Map<FunctionVersion, number> {
    const totals = new Map<FunctionVersion, number>();
    for (const config of record.provisioned.values()) {
      for (const [version, count] of this.allocation(record, config)) {
        totals.set(version, (totals.get(version) ?? 0) + count);
      }
    }
    return totals;
  }

  /** Provisioned concurrency of functions without reserved concurrency, other than `except`. */
  private unreservedProvisioned(except: FunctionRecord): number {
    let total = 0;
    for (const record of this.registry.records()) {
      if (record === except || record.reservedConcurrency !== undefined) continue;
      for (const config of record.provisioned.values()) total += config.requested;
    }
    return total;
  }

  /** The qualifier of a provisioned-concurrency call: a published version or an alias of `record`. */
  private checkQualifier(record: FunctionRecord, qualifier: string | null): string {
    if (qualifier === null || qualifier === '') {
      throw lambdaApiErrors.invalid('Qualifier is required: a published version or an alias');
    }
    if (qualifier === '$LATEST') {
      throw lambdaApiErrors.invalid(
        'Provisioned Concurrency Configs cannot be applied to unpublished function versions.',
      );
    }
    if (!record.versions.has(qualifier) && !record.aliases.has(qualifier)) {
      throw lambdaApiErrors.functionNotFound(this.registry.arn(record.name, qualifier));
    }
    return qualifier;
  }
}
