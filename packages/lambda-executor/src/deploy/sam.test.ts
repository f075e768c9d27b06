import { createRequire } from 'node:module';
import { buildPlan } from '@switchyard/testing/plans';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { samTemplate, samTemplateObject } from './sam.js';

const plan = buildPlan({
  model: { name: 'm' },
  layers: [
    {
      layer: 0,
      functions: [{ name: 'g0', experts: [0, 1], memoryMB: 2048, replicas: 2, reservedConcurrency: 4 }],
    },
  ],
});

describe('samTemplate', () => {
  it('declares one function per replica with the plan memory and reserved concurrency', () => {
    const template = samTemplate(plan);
    expect(template.match(/Type: AWS::Serverless::Function/g)).toHaveLength(2);
    expect(template).toContain('FunctionName: g0-r1');
    expect(template).toContain('MemorySize: 2048');
    expect(template).toContain('ReservedConcurrentExecutions: 4');
    expect(template).toContain('CodeUri: functions/g0/');
  });
});

/** The CloudFormation resource specification (`@aws-cdk/cfnspec`, SAM's resource types included). */
interface PropertySpec {
  PrimitiveType?: string;
  PrimitiveTypes?: string[];
  Type?: string;
  Types?: string[];
  PrimitiveItemType?: string;
  ItemType?: string;
  Required?: boolean;
}
interface Specification {
  ResourceSpecificationVersion: string;
  ResourceTypes: Record<string, { Properties: Record<string, PropertySpec> }>;
  PropertyTypes: Record<string, { Properties?: Record<string, PropertySpec>; PrimitiveType?: string }>;
}
const specification = createRequire(import.meta.url)(
  '@aws-cdk/cfnspec/spec/specification.json',
) as Specification;

const intrinsic = (value: unknown): boolean =>
  typeof value === 'object' &&
  value !== null &&
  Object.keys(value).length === 1 &&
  /^(Ref|Fn::\w+)$/.test(Object.keys(value)[0] as string);

/** Whether `value` is of the primitive type the spec names (intrinsic functions stand for any). */
function primitiveProblem(type: string, value: unknown, path: string): string[] {
  if (intrinsic(value)) return [];
  const ok =
    (type === 'String' && typeof value === 'string') ||
    ((type === 'Integer' || type === 'Long') && Number.isInteger(value)) ||
    (type === 'Double' && typeof value === 'number') ||
    (type === 'Boolean' && typeof value === 'boolean') ||
    (type === 'Json' && typeof value === 'object' && value !== null);
  return ok ? [] : [`${path}: ${JSON.stringify(value)} is not ${type}`];
}

/** Every way `properties` break the spec of `resourceType` (unknown names, wrong types, missing required ones). */
function problems(
  resourceType: string,
  properties: Record<string, unknown>,
  specs: Record<string, PropertySpec>,
  path: string,
): string[] {
  const found: string[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.Required && !(name in properties)) found.push(`${path}.${name}: required, missing`);
  }
  for (const [name, value] of Object.entries(properties)) {
    const spec = specs[name];
    const at = `${path}.${name}`;
    if (!spec) {
      found.push(`${at}: not a property of ${resourceType}`);
      continue;
    }
    found.push(...valueProblems(resourceType, spec, value, at));
  }
  return found;
}

function structured(resourceType: string, typeName: string, value: unknown, at: string): string[] {
  if (intrinsic(value)) return [];
  const type =
    specification.PropertyTypes[`${resourceType}.${typeName}`] ?? specification.PropertyTypes[typeName];
  if (!type?.Properties) return [`${at}: property type ${typeName} is not in the specification`];
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [`${at}: expected a ${typeName}`];
  return problems(resourceType, value as Record<string, unknown>, type.Properties, at);
}

function valueProblems(resourceType: string, spec: PropertySpec, value: unknown, at: string): string[] {
  if (spec.PrimitiveType) return primitiveProblem(spec.PrimitiveType, value, at);
  if (spec.PrimitiveTypes || spec.Types) {
    // A union (SAM's CodeUri: a path string or an S3Location).
    const options = [
      ...(spec.PrimitiveTypes ?? []).map((type) => primitiveProblem(type, value, at)),
      ...(spec.Types ?? []).map((type) => structured(resourceType, type, value, at)),
    ];
    return options.some((list) => list.length === 0) ? [] : [`${at}: matches none of its types`];
  }
  if (spec.Type === 'List' || spec.Type === 'Map') {
    if (intrinsic(value)) return [];
    const items = spec.Type === 'List' ? value : Object.values(value as object);
    if (spec.Type === 'List' && !Array.isArray(value)) return [`${at}: expected a list`];
    return (items as unknown[]).flatMap((item, index) =>
      spec.PrimitiveItemType
        ? primitiveProblem(spec.PrimitiveItemType, item, `${at}[${index}]`)
        : structured(resourceType, spec.ItemType as string, item, `${at}[${index}]`),
    );
  }
  return structured(resourceType, spec.Type as string, value, at);
}

describe('the SAM template against the CloudFormation resource specification', () => {
  const provisioned = buildPlan({
    model: { name: 'shakespeare-mixtral-8x2' },
    arch: 'arm64',
    layers: [
      { layer: 0, functions: [{ name: 'shk-l0-e3', experts: [3], memoryMB: 768 }] },
      {
        layer: 1,
        functions: [
          { name: 'shk-l1-g0', experts: [0, 1], memoryMB: 1024, replicas: 2, reservedConcurrency: 3 },
          { name: 'shk-l1-e5', experts: [5], memoryMB: 512 },
        ],
      },
    ],
  });
  // A provisioned-concurrency function (the plan's optional per-function field) and one on x86_64.
  (provisioned.layers[1]?.functions[0] as { provisionedConcurrency?: number }).provisionedConcurrency = 2;
  (provisioned.layers[1]?.functions[1] as { arch?: string }).arch = 'x86_64';

  it(`sets only properties the spec (version ${specification.ResourceSpecificationVersion}) defines, with their types, required ones included`, () => {
    for (const options of [
      {},
      { roleArn: 'arn:aws:iam::123456789012:role/given', runtime: 'nodejs24.x' as const },
    ]) {
      const template = samTemplateObject(provisioned, options);
      // The YAML written is this object, read back by a YAML parser nobody here wrote.
      expect(parse(samTemplate(provisioned, options))).toEqual(JSON.parse(JSON.stringify(template)));
      const found: string[] = [];
      for (const [id, resource] of Object.entries(template.Resources)) {
        const type = specification.ResourceTypes[resource.Type];
        if (!type) {
          found.push(`${id}: ${resource.Type} is not a resource type`);
          continue;
        }
        found.push(...problems(resource.Type, resource.Properties, type.Properties, id));
      }
      expect(found).toEqual([]);
    }
  });

  it('uses the runtime, layer per architecture, live alias and role deploy uses', () => {
    const template = samTemplateObject(provisioned);
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Serverless::Function');
    expect(functions.map((fn) => fn.Properties.FunctionName)).toEqual([
      'shk-l0-e3-r0',
      'shk-l1-g0-r0',
      'shk-l1-g0-r1',
      'shk-l1-e5-r0',
    ]);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Handler: 'expert-function.handler',
        AutoPublishAlias: 'live',
        Role: { 'Fn::GetAtt': ['ExecutionRole', 'Arn'] },
      });
    }
    expect(functions.map((fn) => [fn.Properties.Architectures, fn.Properties.Layers])).toEqual([
      [['arm64'], [{ Ref: 'RuntimeLayerarm64' }]],
      [['arm64'], [{ Ref: 'RuntimeLayerarm64' }]],
      [['arm64'], [{ Ref: 'RuntimeLayerarm64' }]],
      [['x86_64'], [{ Ref: 'RuntimeLayerx8664' }]],
    ]);
    expect(functions[1]?.Properties.ProvisionedConcurrencyConfig).toEqual({
      ProvisionedConcurrentExecutions: '2',
    });
    expect(template.Resources.RuntimeLayerarm64?.Properties.LayerName).toBe(
      'switchyard-shakespeare-mixtral-8x2-runtime-arm64',
    );
    expect(template.Resources.ExecutionRole?.Properties.RoleName).toBe('switchyard-shakespeare-mixtral-8x2');
    const given = samTemplateObject(provisioned, { roleArn: 'arn:aws:iam::123456789012:role/given' });
    expect(given.Resources.ExecutionRole).toBeUndefined();
    expect(
      Object.values(given.Resources).filter(
        (r) => r.Properties.Role === 'arn:aws:iam::123456789012:role/given',
      ),
    ).toHaveLength(4);
  });
});
