import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorOf } from '../test/fixtures.js';
import { lambdaCost } from './lambda-cost.js';
import {
  defaultPriceTable,
  ec2Instance,
  loadPriceTable,
  mergePriceTable,
  priceTableSchema,
  resolveRates,
} from './price-table.js';

/** Every object with a `value` number in the table is a priced value. */
function pricedValues(
  node: unknown,
  path: string,
  found: Array<{ path: string; value: Record<string, unknown> }>,
): void {
  if (typeof node !== 'object' || node === null) return;
  const record = node as Record<string, unknown>;
  if (typeof record.value === 'number') {
    found.push({ path, value: record });
    return;
  }
  for (const [key, child] of Object.entries(record)) pricedValues(child, `${path}.${key}`, found);
}

describe('default price table', () => {
  it('is valid and every price carries a source and a date', () => {
    expect(priceTableSchema.safeParse(defaultPriceTable).success).toBe(true);
    const found: Array<{ path: string; value: Record<string, unknown> }> = [];
    pricedValues(defaultPriceTable.regions, 'regions', found);
    expect(found.length).toBeGreaterThanOrEqual(13);
    for (const { path, value } of found) {
      expect(typeof value.source, path).toBe('string');
      expect(String(value.source).length, path).toBeGreaterThan(10);
      // A source is the public AWS pricing page the value is read from, by URL, nothing else.
      expect(value.source, path).toMatch(
        /^https:\/\/aws\.amazon\.com\/(lambda\/pricing|s3\/pricing|ec2\/pricing\/on-demand)\/$/,
      );
      expect(value.date, path).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(typeof value.unit, path).toBe('string');
    }
  });

  it('holds the Lambda facts of architecture/aws-lambda-facts.md for us-east-1', () => {
    const rates = resolveRates();
    expect(rates.usdPerGbSecond).toBe(0.0000166667);
    expect(rates.usdPerRequest).toBeCloseTo(0.2e-6, 15);
    expect(rates.tierBoundsGbSeconds).toEqual([6e9, 15e9, Number.POSITIVE_INFINITY]);
    expect(resolveRates({ arch: 'arm64' }).tierBoundsGbSeconds).toEqual([
      7.5e9,
      18.75e9,
      Number.POSITIVE_INFINITY,
    ]);
    expect(rates.freeGbSecondsPerMonth).toBe(400_000);
    expect(rates.freeRequestsPerMonth).toBe(1_000_000);
    expect(rates.billingGranularityMs).toBe(1);
    expect(rates.initBilled).toBe(true);
    expect(ec2Instance('m6a.32xlarge').memoryGiB).toBe(512);
  });

  it('rejects unknown regions, architectures and instance types naming the field', () => {
    expect(errorOf(() => resolveRates({ region: 'eu-west-9' })).location).toBe('region');
    expect(errorOf(() => resolveRates({ arch: 'sparc' })).location).toBe('arch');
    expect(errorOf(() => ec2Instance('x1.tiny')).location).toBe('instanceType');
  });
});

describe('price-table overrides', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-prices-'));

  it('merges a partial override over the defaults and uses it', () => {
    const path = join(dir, 'override.json');
    writeFileSync(
      path,
      JSON.stringify({
        version: 'my-negotiated-rate',
        date: '2027-01-01',
        regions: {
          'us-east-1': {
            lambda: {
              requestUsdPerMillion: {
                value: 0.1,
                unit: 'USD/1M requests',
                source: 'our contract',
                date: '2027-01-01',
              },
            },
          },
        },
      }),
    );
    const table = loadPriceTable(path);
    expect(table.date).toBe('2027-01-01');
    const result = lambdaCost({ memoryMB: 512, durationMs: 1000, invocations: 3_000_000 }, table);
    expect(result.requestUsd).toBeCloseTo(0.3, 10);
    expect(result.computeUsd).toBeCloseTo(25.0, 3);
    expect(result.priceTableVersion).toBe('my-negotiated-rate');
  });

  it('adds a region from an override', () => {
    const base = defaultPriceTable.regions['us-east-1']!;
    const table = mergePriceTable({ regions: { 'eu-west-1': base } });
    expect(resolveRates({ region: 'eu-west-1' }, table).region).toBe('eu-west-1');
  });

  it('rejects malformed overrides with the offending field', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ "regions": ');
    const syntax = errorOf(() => loadPriceTable(bad));
    expect(syntax.code).toBe('INVALID_INPUT');
    expect(syntax.message).toContain('malformed JSON');

    const negative = errorOf(() =>
      mergePriceTable({ regions: { 'us-east-1': { lambda: { requestUsdPerMillion: { value: -1 } } } } }),
    );
    expect(negative.message).toContain('regions.us-east-1.lambda.requestUsdPerMillion.value');

    const tiers = errorOf(() =>
      mergePriceTable({
        regions: {
          'us-east-1': {
            lambda: {
              duration: {
                x86_64: [
                  {
                    upToGbSecondsPerMonth: 5,
                    usdPerGbSecond: { value: 1, unit: 'USD/GB-s', source: 'x', date: '2026-01-01' },
                  },
                ],
              },
            },
          },
        },
      }),
    );
    expect(tiers.message).toContain('regions.us-east-1.lambda.duration.x86_64.0');
    // A misspelled key would otherwise be dropped and the default price used without a word.
    const typo = errorOf(() =>
      mergePriceTable({ regions: { 'us-east-1': { lambda: { requestUsdPerMilion: { value: 0.1 } } } } }),
    );
    expect(typo.code).toBe('INVALID_INPUT');
    expect(typo.message).toContain('regions.us-east-1.lambda');
    expect(typo.message).toContain('requestUsdPerMilion');
    expect(errorOf(() => mergePriceTable({ regoins: {} })).message).toContain('regoins');
    expect(mergePriceTable({ $schema: 'x', description: 'my prices' }).regions['us-east-1']).toBeDefined();
    expect(errorOf(() => mergePriceTable([1, 2])).code).toBe('INVALID_INPUT');
    expect(errorOf(() => loadPriceTable(join(dir, 'missing.json'))).code).toBe('NOT_FOUND');
  });
});
