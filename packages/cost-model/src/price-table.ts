import { parseWithSchema } from '@switchyard/core';
import { z } from 'zod';
import { CostModelError, invalidField } from './errors.js';
import { readJsonFile } from './json-file.js';

/** One price: the number, what it is per, where it came from and when it was read. */
export const pricedValueSchema = z.strictObject({
  value: z.number().nonnegative(),
  unit: z.string().min(1),
  source: z.string().min(1),
  /** ISO date (YYYY-MM-DD) the value was read from `source`. */
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD'),
  note: z.string().optional(),
});
export type PricedValue = z.output<typeof pricedValueSchema>;

/** A monthly volume tier: applies to GB-s beyond the previous tier's bound up to `upToGbSecondsPerMonth`. */
export const durationTierSchema = z.strictObject({
  /** Upper bound of this tier in cumulative GB-s per month; null = unbounded (last tier). */
  upToGbSecondsPerMonth: z.number().positive().nullable(),
  usdPerGbSecond: pricedValueSchema,
});

export const lambdaArchitectures = ['x86_64', 'arm64'] as const;
export type LambdaArchitecture = (typeof lambdaArchitectures)[number];

const tiersSchema = z
  .array(durationTierSchema)
  .min(1)
  .superRefine((tiers, context) => {
    let previous = 0;
    tiers.forEach((tier, index) => {
      const last = index === tiers.length - 1;
      if (last && tier.upToGbSecondsPerMonth !== null)
        context.addIssue({
          code: 'custom',
          message: 'the last tier must be unbounded (null)',
          path: [index],
        });
      if (!last && (tier.upToGbSecondsPerMonth === null || tier.upToGbSecondsPerMonth <= previous))
        context.addIssue({ code: 'custom', message: 'tier bounds must increase', path: [index] });
      previous = tier.upToGbSecondsPerMonth ?? previous;
    });
  });

export const ec2InstanceSchema = z.strictObject({
  usdPerHour: pricedValueSchema,
  vcpus: z.number().int().positive(),
  memoryGiB: z.number().positive(),
  processor: z.string(),
});

/** Provisioned concurrency's own prices for one architecture. */
const provisionedArchitecturePricesSchema = z.strictObject({
  /** Per GB-s of configured concurrency, billed from enabling to disabling it, busy or idle. */
  concurrencyUsdPerGbSecond: pricedValueSchema,
  /** Per GB-s of duration of the invocations provisioned instances serve (instead of the on-demand price). */
  durationUsdPerGbSecond: pricedValueSchema,
});

/**
 * Provisioned concurrency's prices (https://aws.amazon.com/lambda/pricing/, "Provisioned Concurrency
 * Pricing"). Optional, so that override files written before it still describe whole regions;
 * without it the planner never chooses provisioned concurrency and a plan that has some cannot be priced.
 */
export const provisionedConcurrencyPricesSchema = z.strictObject({
  x86_64: provisionedArchitecturePricesSchema,
  arm64: provisionedArchitecturePricesSchema,
  /** Requests served by provisioned instances. */
  requestUsdPerMillion: pricedValueSchema,
  /** The configured concurrency is billed in increments of this many minutes (5). */
  billingIncrementMinutes: z.number().int().positive(),
});

export const regionPricesSchema = z.strictObject({
  lambda: z.strictObject({
    duration: z.strictObject({ x86_64: tiersSchema, arm64: tiersSchema }),
    requestUsdPerMillion: pricedValueSchema,
    /** Ephemeral storage above the included amount, per GB-s. */
    ephemeralStorageUsdPerGbSecond: pricedValueSchema,
    includedEphemeralStorageMB: z.number().int().nonnegative(),
    freeTier: z.strictObject({ requestsPerMonth: pricedValueSchema, gbSecondsPerMonth: pricedValueSchema }),
    /** Billed duration is rounded up to this many ms. */
    billingGranularityMs: z.number().int().positive(),
    /** Whether the INIT phase is billed as duration (true since 1 Aug 2025). */
    initBilled: z.boolean(),
    provisionedConcurrency: provisionedConcurrencyPricesSchema.optional(),
  }),
  s3: z.strictObject({ putUsdPerThousand: pricedValueSchema, getUsdPerThousand: pricedValueSchema }),
  ec2: z.record(z.string(), ec2InstanceSchema),
  /** How EC2 on-demand time is billed: per second with a minimum per instance (Linux). */
  ec2Billing: z.strictObject({
    granularitySeconds: pricedValueSchema,
    minimumBilledSeconds: pricedValueSchema,
  }),
});
export type RegionPrices = z.output<typeof regionPricesSchema>;

/**
 * Every object in the table is strict: an override with a misspelled key is an error naming it, not
 * a silently ignored value.
 */
export const priceTableSchema = z.strictObject({
  kind: z.literal('switchyard.price-table'),
  /** Optional JSON-schema pointer or comment for people editing an override file. */
  $schema: z.string().optional(),
  description: z.string().optional(),
  /** Table version; bump when any value changes. */
  version: z.string().min(1),
  /** Date the table as a whole was checked (YYYY-MM-DD). */
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD'),
  currency: z.literal('USD'),
  regions: z
    .record(z.string(), regionPricesSchema)
    .refine((r) => Object.keys(r).length > 0, 'at least one region'),
});
export type PriceTable = z.output<typeof priceTableSchema>;

/** The public AWS pricing pages every built-in price is read from (architecture/aws-lambda-facts.md). */
const lambdaPricing = 'https://aws.amazon.com/lambda/pricing/';
const s3Pricing = 'https://aws.amazon.com/s3/pricing/';
const ec2OnDemandPricing = 'https://aws.amazon.com/ec2/pricing/on-demand/';
const checked = '2026-11-28';
/** When provisioned concurrency's prices were read. */
const provisionedChecked = '2026-12-06';

function price(value: number, unit: string, source: string, note?: string, date = checked): PricedValue {
  return { value, unit, source, date, note };
}

/** When EC2's billing rule was added to the table (after the table's own checking date). */
const ec2BillingAdded = '2026-12-06';

/**
 * The built-in table. us-east-1 only: other regions' request and storage prices could not be cited
 * here; add them with an override file (see `loadPriceTable`). The version is the date of the last
 * check and a revision count for that date (`2026-12-06.1`: provisioned concurrency's prices added;
 * `2026-12-06.2`: merged with EC2's billing rule).
 */
export const defaultPriceTable: PriceTable = Object.freeze({
  kind: 'switchyard.price-table',
  version: '2026-12-06.2',
  date: provisionedChecked,
  currency: 'USD',
  regions: {
    'us-east-1': {
      lambda: {
        duration: {
          x86_64: [
            {
              upToGbSecondsPerMonth: 6e9,
              usdPerGbSecond: price(0.0000166667, 'USD/GB-s', lambdaPricing, 'first 6 B GB-s/month'),
            },
            {
              upToGbSecondsPerMonth: 15e9,
              usdPerGbSecond: price(0.000015, 'USD/GB-s', lambdaPricing, 'next 9 B GB-s: −10 %'),
            },
            {
              upToGbSecondsPerMonth: null,
              usdPerGbSecond: price(0.0000133334, 'USD/GB-s', lambdaPricing, 'over 15 B GB-s: −20 %'),
            },
          ],
          arm64: [
            {
              upToGbSecondsPerMonth: 7.5e9,
              usdPerGbSecond: price(0.0000133334, 'USD/GB-s', lambdaPricing, 'first 7.5 B GB-s/month'),
            },
            {
              upToGbSecondsPerMonth: 18.75e9,
              usdPerGbSecond: price(0.0000120001, 'USD/GB-s', lambdaPricing, 'next 11.25 B: −10 %'),
            },
            {
              upToGbSecondsPerMonth: null,
              usdPerGbSecond: price(0.0000106667, 'USD/GB-s', lambdaPricing, 'over 18.75 B: −20 %'),
            },
          ],
        },
        requestUsdPerMillion: price(0.2, 'USD/1M requests', lambdaPricing),
        ephemeralStorageUsdPerGbSecond: price(
          0.0000000309,
          'USD/GB-s above 512 MB',
          lambdaPricing,
          'configured /tmp beyond the included 512 MB',
        ),
        includedEphemeralStorageMB: 512,
        freeTier: {
          requestsPerMonth: price(1_000_000, 'requests/month', lambdaPricing),
          gbSecondsPerMonth: price(400_000, 'GB-s/month', lambdaPricing),
        },
        billingGranularityMs: 1,
        initBilled: true,
        provisionedConcurrency: {
          x86_64: {
            concurrencyUsdPerGbSecond: price(
              0.0000041667,
              'USD/GB-s configured',
              lambdaPricing,
              "AWS's example: 1,000 × 1 GB configured for 2 h = 7.2 M GB-s → $30.00",
              provisionedChecked,
            ),
            durationUsdPerGbSecond: price(
              0.0000097222,
              'USD/GB-s of duration on provisioned instances',
              lambdaPricing,
              undefined,
              provisionedChecked,
            ),
          },
          arm64: {
            concurrencyUsdPerGbSecond: price(
              0.0000033334,
              'USD/GB-s configured',
              lambdaPricing,
              undefined,
              provisionedChecked,
            ),
            durationUsdPerGbSecond: price(
              0.0000077778,
              'USD/GB-s of duration on provisioned instances',
              lambdaPricing,
              undefined,
              provisionedChecked,
            ),
          },
          requestUsdPerMillion: price(0.2, 'USD/1M requests', lambdaPricing, undefined, provisionedChecked),
          billingIncrementMinutes: 5,
        },
      },
      s3: {
        putUsdPerThousand: price(0.005, 'USD/1,000 PUT, COPY, POST, LIST (S3 Standard)', s3Pricing),
        getUsdPerThousand: price(0.0004, 'USD/1,000 GET, SELECT and other requests (S3 Standard)', s3Pricing),
      },
      ec2: {
        'm6a.32xlarge': {
          usdPerHour: price(
            5.5296,
            'USD/hour, on-demand Linux',
            ec2OnDemandPricing,
            '3rd-gen AMD EPYC, 128 vCPU, 512 GiB: the class of the paper’s CPU cluster (2 × 64-core EPYC, 512 GB)',
          ),
          vcpus: 128,
          memoryGiB: 512,
          processor: 'AMD EPYC 7R13 (3rd gen, Milan)',
        },
      },
      ec2Billing: {
        granularitySeconds: price(
          1,
          's',
          ec2OnDemandPricing,
          'per-second billing of Linux on-demand instances',
          ec2BillingAdded,
        ),
        minimumBilledSeconds: price(
          60,
          's',
          ec2OnDemandPricing,
          'each instance is billed for at least 60 s (the page’s per-second billing section)',
          ec2BillingAdded,
        ),
      },
    },
  },
}) as PriceTable;

/** What a price-table override file may hold: any subset of a table, merged over the defaults. */
export type PriceTableOverride = Partial<Omit<PriceTable, 'regions'>> & {
  regions?: Record<string, unknown>;
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep-merges `override` over `base`; arrays and scalars in `override` replace. */
function deepMerge(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) merged[key] = deepMerge(base[key], value);
  return merged;
}

/**
 * Applies an override (a parsed JSON value) over `base` and validates the result. Errors name the
 * offending field, e.g. `regions.us-east-1.lambda.requestUsdPerMillion.value`.
 */
export function mergePriceTable(
  override: unknown,
  base: PriceTable = defaultPriceTable,
  where = 'price table',
): PriceTable {
  if (!isPlainObject(override))
    throw new CostModelError({
      code: 'INVALID_INPUT',
      message: `${where}: expected a JSON object`,
      location: where,
    });
  const merged = deepMerge(base, { kind: 'switchyard.price-table', ...override });
  return parseWithSchema(priceTableSchema, merged, where);
}

/** Reads a JSON override file and merges it over the defaults (or `base`). */
export function loadPriceTable(path: string, base: PriceTable = defaultPriceTable): PriceTable {
  return mergePriceTable(readJsonFile(path, 'price table'), base, path);
}

/**
 * Flat numbers for one region and architecture, resolved once so the hot cost functions do no
 * lookups. All money in USD, per unit (not per million/thousand).
 */
export interface LambdaRates {
  readonly region: string;
  readonly arch: LambdaArchitecture;
  readonly tableVersion: string;
  readonly tableDate: string;
  /** Tier upper bounds in GB-s/month (last = Infinity). */
  readonly tierBoundsGbSeconds: readonly number[];
  readonly tierUsdPerGbSecond: readonly number[];
  /** First-tier price: the marginal price the planner uses. */
  readonly usdPerGbSecond: number;
  readonly usdPerRequest: number;
  readonly ephemeralUsdPerGbSecond: number;
  readonly includedEphemeralStorageMB: number;
  readonly freeRequestsPerMonth: number;
  readonly freeGbSecondsPerMonth: number;
  readonly billingGranularityMs: number;
  readonly initBilled: boolean;
  readonly s3PutUsd: number;
  readonly s3GetUsd: number;
  /** Provisioned concurrency's prices for this architecture; undefined when the table has none. */
  readonly provisioned: ProvisionedRates | undefined;
}

/** Provisioned concurrency's prices, per unit. */
export interface ProvisionedRates {
  /** Per GB-s configured (busy or idle). */
  readonly concurrencyUsdPerGbSecond: number;
  /** Per GB-s of duration served by provisioned instances. */
  readonly durationUsdPerGbSecond: number;
  readonly usdPerRequest: number;
  readonly billingIncrementMinutes: number;
}

/** Resolves flat rates; unknown region or architecture raise INVALID_INPUT naming the field. */
export function resolveRates(
  options: { region?: string; arch?: string } = {},
  table: PriceTable = defaultPriceTable,
): LambdaRates {
  const region = options.region ?? 'us-east-1';
  const arch = options.arch ?? 'x86_64';
  const prices = table.regions[region];
  if (!prices)
    throw invalidField(
      'region',
      `unknown region "${region}"; the price table has ${Object.keys(table.regions).join(', ')}`,
    );
  if (!(lambdaArchitectures as readonly string[]).includes(arch))
    throw invalidField(
      'arch',
      `unknown architecture "${arch}"; expected ${lambdaArchitectures.join(' or ')}`,
    );
  const tiers = prices.lambda.duration[arch as LambdaArchitecture];
  return Object.freeze({
    region,
    arch: arch as LambdaArchitecture,
    tableVersion: table.version,
    tableDate: table.date,
    tierBoundsGbSeconds: tiers.map((t) => t.upToGbSecondsPerMonth ?? Number.POSITIVE_INFINITY),
    tierUsdPerGbSecond: tiers.map((t) => t.usdPerGbSecond.value),
    usdPerGbSecond: tiers[0]!.usdPerGbSecond.value,
    usdPerRequest: prices.lambda.requestUsdPerMillion.value / 1e6,
    ephemeralUsdPerGbSecond: prices.lambda.ephemeralStorageUsdPerGbSecond.value,
    includedEphemeralStorageMB: prices.lambda.includedEphemeralStorageMB,
    freeRequestsPerMonth: prices.lambda.freeTier.requestsPerMonth.value,
    freeGbSecondsPerMonth: prices.lambda.freeTier.gbSecondsPerMonth.value,
    billingGranularityMs: prices.lambda.billingGranularityMs,
    initBilled: prices.lambda.initBilled,
    s3PutUsd: prices.s3.putUsdPerThousand.value / 1000,
    s3GetUsd: prices.s3.getUsdPerThousand.value / 1000,
    provisioned: provisionedRates(prices.lambda.provisionedConcurrency, arch as LambdaArchitecture),
  });
}

function provisionedRates(
  prices: z.output<typeof provisionedConcurrencyPricesSchema> | undefined,
  arch: LambdaArchitecture,
): ProvisionedRates | undefined {
  if (!prices) return undefined;
  return Object.freeze({
    concurrencyUsdPerGbSecond: prices[arch].concurrencyUsdPerGbSecond.value,
    durationUsdPerGbSecond: prices[arch].durationUsdPerGbSecond.value,
    usdPerRequest: prices.requestUsdPerMillion.value / 1e6,
    billingIncrementMinutes: prices.billingIncrementMinutes,
  });
}

/** EC2's billing rule in a region: per-second granularity and the minimum per instance. */
export function ec2BillingRule(
  region = 'us-east-1',
  table: PriceTable = defaultPriceTable,
): { granularityS: number; minimumBilledS: number } {
  const prices = table.regions[region];
  if (!prices) throw invalidField('region', `unknown region "${region}"`);
  return {
    granularityS: prices.ec2Billing.granularitySeconds.value,
    minimumBilledS: prices.ec2Billing.minimumBilledSeconds.value,
  };
}

/** Looks up an EC2 instance's on-demand price; unknown types raise INVALID_INPUT naming `instanceType`. */
export function ec2Instance(
  instanceType: string,
  region = 'us-east-1',
  table: PriceTable = defaultPriceTable,
): z.output<typeof ec2InstanceSchema> {
  const prices = table.regions[region];
  if (!prices) throw invalidField('region', `unknown region "${region}"`);
  const instance = prices.ec2[instanceType];
  if (!instance)
    throw invalidField(
      'instanceType',
      `no price for "${instanceType}" in ${region}; known: ${Object.keys(prices.ec2).join(', ')} (add one with a price-table override)`,
    );
  return instance;
}
