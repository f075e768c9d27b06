import { randomUUID } from 'node:crypto';
import type { RandomSource } from '@switchyard/core';
import { lambdaApiErrors } from './errors.js';
import type { AliasRecord, FunctionRecord } from './function-record.js';
import type { FunctionRegistry, RegistryEvents } from './function-registry.js';

/** Alias names: 1–128 of A–Z a–z 0–9 - _, not all digits (those are version numbers). */
const aliasNamePattern = /^(?!\d+$)[A-Za-z0-9_-]{1,128}$/;

/** `RoutingConfig.AdditionalVersionWeights` of a request, checked as Lambda checks weighted aliases. */
function weightsOf(body: Record<string, unknown>): Record<string, number> | undefined {
  const routing = body.RoutingConfig as { AdditionalVersionWeights?: unknown } | undefined;
  if (routing === undefined || routing === null) return undefined;
  const weights = routing.AdditionalVersionWeights ?? {};
  if (typeof weights !== 'object' || weights === null || Array.isArray(weights)) {
    throw lambdaApiErrors.invalid('RoutingConfig.AdditionalVersionWeights must map a version to a weight');
  }
  const entries = Object.entries(weights);
  if (entries.length > 1) {
    throw lambdaApiErrors.invalid('An alias can route to at most one additional version');
  }
  for (const [version, weight] of entries) {
    if (!/^\d+$/.test(version)) {
      throw lambdaApiErrors.invalid(
        `AdditionalVersionWeights key '${version}' must be a published version number`,
      );
    }
    if (typeof weight !== 'number' || !(weight >= 0 && weight <= 1)) {
      throw lambdaApiErrors.invalid(
        `The weight of version ${version} must be between 0.0 and 1.0, got ${String(weight)}`,
      );
    }
  }
  return Object.fromEntries(entries) as Record<string, number>;
}

/**
 * Function aliases: CreateAlias, GetAlias, UpdateAlias, DeleteAlias, ListAliases, in the API's JSON
 * shapes, and the version an invocation of an alias runs. A weighted alias routes each invocation to
 * its additional version with that version's weight (Lambda's "simple probabilistic model"; the draw
 * is seeded, so a run repeats). Rules of weighted aliases, as Lambda's: both versions published (no
 * `$LATEST`), different, and with the same execution role
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuring-alias-routing.html).
 */
export class AliasRegistry {
  constructor(
    private readonly registry: FunctionRegistry,
    private readonly random: RandomSource,
    private readonly events: RegistryEvents,
  ) {}

  create(record: FunctionRecord, body: Record<string, unknown>): Record<string, unknown> {
    const name = String(body.Name ?? '');
    if (!aliasNamePattern.test(name)) {
      throw lambdaApiErrors.invalid(
        `1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)`,
      );
    }
    if (record.aliases.has(name)) {
      throw lambdaApiErrors.conflict(`Alias already exists: ${this.registry.arn(record.name, name)}`);
    }
    const alias: AliasRecord = {
      name,
      functionVersion: String(body.FunctionVersion ?? ''),
      description: typeof body.Description === 'string' ? body.Description : '',
      additionalVersionWeights: weightsOf(body) ?? {},
      revisionId: randomUUID(),
    };
    this.check(record, alias);
    record.aliases.set(name, alias);
    this.events.changed(record);
    return this.describe(record, alias);
  }

  /** The alias named `name`, or the API's 404. */
  get(record: FunctionRecord, name: string): AliasRecord {
    const alias = record.aliases.get(name);
    if (!alias) {
      throw lambdaApiErrors.notFound(`Alias not found: ${this.registry.arn(record.name, name)}`);
    }
    return alias;
  }

  describe(record: FunctionRecord, alias: AliasRecord): Record<string, unknown> {
    const weighted = Object.keys(alias.additionalVersionWeights).length > 0;
    return {
      AliasArn: this.registry.arn(record.name, alias.name),
      Name: alias.name,
      FunctionVersion: alias.functionVersion,
      Description: alias.description,
      RoutingConfig: weighted ? { AdditionalVersionWeights: alias.additionalVersionWeights } : undefined,
      RevisionId: alias.revisionId,
    };
  }

  /** UpdateAlias: a new version, description or routing (`RoutingConfig: {}` clears the weights). */
  update(record: FunctionRecord, name: string, body: Record<string, unknown>): Record<string, unknown> {
    const current = this.get(record, name);
    if (typeof body.RevisionId === 'string' && body.RevisionId !== current.revisionId) {
      throw lambdaApiErrors.preconditionFailed('GetAlias');
    }
    const next: AliasRecord = {
      ...current,
      functionVersion:
        body.FunctionVersion === undefined ? current.functionVersion : String(body.FunctionVersion),
      description: typeof body.Description === 'string' ? body.Description : current.description,
      additionalVersionWeights: weightsOf(body) ?? current.additionalVersionWeights,
      revisionId: randomUUID(),
    };
    this.check(record, next);
    record.aliases.set(name, next);
    this.events.changed(record);
    return this.describe(record, next);
  }

  delete(record: FunctionRecord, name: string): void {
    if (!record.aliases.delete(name)) return;
    record.provisioned.delete(name);
    this.events.changed(record);
  }

  /** ListAliases, by name, optionally only those pointing at `FunctionVersion`. */
  list(record: FunctionRecord, query: URLSearchParams): Record<string, unknown> {
    const version = query.get('FunctionVersion');
    const aliases = [...record.aliases.values()]
      .filter((alias) => version === null || alias.functionVersion === version)
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    return { Aliases: aliases.map((alias) => this.describe(record, alias)) };
  }

  /** The version one invocation of `alias` runs: the additional one with its weight, else the primary. */
  pick(alias: AliasRecord): string {
    const [additional] = Object.entries(alias.additionalVersionWeights);
    if (additional && this.random() < additional[1]) return additional[0];
    return alias.functionVersion;
  }

  private check(record: FunctionRecord, alias: AliasRecord): void {
    const { functionVersion } = alias;
    if (functionVersion !== '$LATEST' && !record.versions.has(functionVersion)) {
      throw lambdaApiErrors.functionNotFound(this.registry.arn(record.name, functionVersion));
    }
    const [additional] = Object.keys(alias.additionalVersionWeights);
    if (additional === undefined) return;
    if (functionVersion === '$LATEST') {
      throw lambdaApiErrors.invalid('$LATEST is not supported for an alias pointing to more than 1 version');
    }
    if (additional === functionVersion) {
      throw lambdaApiErrors.invalid(
        `The additional version ${additional} must be different from the alias's primary version`,
      );
    }
    const second = record.versions.get(additional);
    if (!second) throw lambdaApiErrors.functionNotFound(this.registry.arn(record.name, additional));
    const primary = record.versions.get(functionVersion);
    if (primary && primary.configuration.Role !== second.configuration.Role) {
      throw lambdaApiErrors.invalid(
        `Versions ${functionVersion} and ${additional} of an alias must have the same execution role`,
      );
    }
  }
}
