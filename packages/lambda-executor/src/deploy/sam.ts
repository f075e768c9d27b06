import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type DeploymentPlan, deploymentPlanSchema, parseWithSchema } from '@switchyard/core';
import {
  functionRuntimes,
  type SamProjectOptions,
  type SamTemplateOptions,
  samProjectOptionsSchema,
  samTemplateOptionsSchema,
} from '../options.js';
import {
  deploymentTagKey,
  executionRoleName,
  executionRolePolicyName,
  layerTagKey,
  liveAlias,
  runtimeLayerName,
} from './deployment-names.js';
import { desiredFunctions } from './desired-functions.js';
import { executionRolePolicy, lambdaTrustPolicy } from './execution-role.js';
import { deployedEnvironment, expertFunctionHandler } from './function-settings.js';
import { packageExpertFunction, runtimeLayerPackage } from './packaging.js';

/** What `writeSamProject` wrote. */
export interface SamProject {
  templatePath: string;
  /** One code directory per expert group, shared by its replicas. */
  functionDirs: string[];
  /** One runtime layer directory per architecture. */
  layerDirs: string[];
}

/** A CloudFormation template as data: what `samTemplate` renders, and what tests check against the spec. */
export interface CloudFormationTemplate {
  AWSTemplateFormatVersion: '2010-09-09';
  Transform: 'AWS::Serverless-2016-10-31';
  Description: string;
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

/** CloudFormation logical ids are alphanumeric. */
function logicalId(prefix: string, name: string): string {
  return `${prefix}${name.replace(/[^A-Za-z0-9]/g, '')}`;
}

function parsePlan(planInput: unknown): DeploymentPlan {
  return parseWithSchema(deploymentPlanSchema, planInput, 'deployment plan', 'PLAN_INVALID');
}

const layerDir = (arch: string): string => `layers/${arch}/`;
const functionDir = (group: string): string => `functions/${group}/`;

/**
 * The AWS SAM template of a plan, as data: what `deployPlan` creates on AWS, declared. The same
 * runtime, handler, memory, timeout, environment and tags per function; one
 * `AWS::Serverless::LayerVersion` per architecture with the handler and onnxruntime (the deployment's
 * runtime layer, code from `layers/<arch>/`); the `live` alias (`AutoPublishAlias`, which publishes a
 * version whenever the code or configuration changes) with the plan's provisioned concurrency; and
 * the execution role — the given `roleArn`, or the same least-privilege role `createRole` makes
 * (Lambda's trust policy, its functions' log groups; graphs ship in the code directories here, so it
 * reads no bucket).
 */
export function samTemplateObject(
  planInput: unknown,
  options: SamTemplateOptions = {},
): CloudFormationTemplate {
  const plan = parsePlan(planInput);
  const resolved = parseWithSchema(samTemplateOptionsSchema, options, 'samTemplate options');
  const model = plan.model.name;
  const desired = desiredFunctions(plan);
  const resources: CloudFormationTemplate['Resources'] = {};
  const layerIds = new Map<string, string>();
  for (const arch of new Set(desired.map((fn) => fn.arch))) {
    const id = logicalId('RuntimeLayer', arch);
    layerIds.set(arch, id);
    resources[id] = {
      Type: 'AWS::Serverless::LayerVersion',
      Properties: {
        LayerName: runtimeLayerName(model, arch),
        Description: `Switchyard expert-function runtime (handler + onnxruntime-node, ${arch})`,
        ContentUri: layerDir(arch),
        CompatibleRuntimes: [...functionRuntimes],
        LicenseInfo: 'MIT AND Apache-2.0',
      },
    };
  }
  let role: unknown = resolved.roleArn;
  if (!role) {
    const policy = executionRolePolicy({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub placeholders
      region: '${AWS::Region}',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub placeholders
      accountId: '${AWS::AccountId}',
      functionNames: desired.map((fn) => fn.functionName),
    });
    // The region and account are the stack's: CloudFormation substitutes them (Fn::Sub).
    const substituted = JSON.parse(JSON.stringify(policy), (_key, value: unknown) =>
      typeof value === 'string' && value.includes('${AWS::') ? { 'Fn::Sub': value } : value,
    );
    resources.ExecutionRole = {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: executionRoleName(model),
        Description: `Switchyard expert functions of ${model}: their logs`,
        AssumeRolePolicyDocument: lambdaTrustPolicy,
        Policies: [{ PolicyName: executionRolePolicyName, PolicyDocument: substituted }],
        Tags: [{ Key: deploymentTagKey, Value: model }],
      },
    };
    role = { 'Fn::GetAtt': ['ExecutionRole', 'Arn'] };
  }
  for (const fn of desired) {
    resources[logicalId('Fn', fn.functionName)] = {
      Type: 'AWS::Serverless::Function',
      Properties: {
        FunctionName: fn.functionName,
        Description: `layer ${fn.layer} experts ${fn.experts.join(',')}`,
        CodeUri: functionDir(fn.baseName),
        Handler: expertFunctionHandler,
        Runtime: resolved.runtime,
        Architectures: [fn.arch],
        MemorySize: fn.memoryMB,
        Timeout: resolved.timeoutSeconds,
        Role: role,
        Layers: [{ Ref: layerIds.get(fn.arch) }],
        Environment: { Variables: deployedEnvironment(model) },
        Tags: { [deploymentTagKey]: model, [layerTagKey]: String(fn.layer) },
        AutoPublishAlias: liveAlias,
        ...(fn.reservedConcurrency === undefined
          ? {}
          : { ReservedConcurrentExecutions: fn.reservedConcurrency }),
        ...(fn.provisionedConcurrency === undefined
          ? {}
          : {
              ProvisionedConcurrencyConfig: {
                ProvisionedConcurrentExecutions: String(fn.provisionedConcurrency),
              },
            }),
      },
    };
  }
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Transform: 'AWS::Serverless-2016-10-31',
    Description: `Switchyard expert functions for ${model} (generated)`,
    Resources: resources,
  };
}

/** A YAML scalar: plain when it cannot be mistaken for anything else, else double-quoted (JSON's syntax). */
function scalar(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = String(value);
  // A colon inside a plain scalar is text unless a space follows it; none can, spaces are quoted.
  return /^[A-Za-z][A-Za-z0-9_./:-]*$/.test(text) &&
    !text.endsWith(':') &&
    !/^(true|false|yes|no|on|off|null|y|n)$/i.test(text)
    ? text
    : JSON.stringify(text);
}

/** Block-style YAML of plain data (maps, lists, strings, numbers, booleans), two-space indents. */
function toYaml(value: unknown, indent = ''): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return ' []';
    return value
      .map((item) => {
        const rendered = toYaml(item, `${indent}  `);
        return typeof item === 'object' && item !== null && !Array.isArray(item)
          ? `\n${indent}- ${rendered.trimStart()}`
          : `\n${indent}-${rendered}`;
      })
      .join('');
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0) return ' {}';
    return entries.map(([key, item]) => `\n${indent}${scalar(key)}:${toYaml(item, `${indent}  `)}`).join('');
  }
  return ` ${scalar(value)}`;
}

/** The AWS SAM template of a plan as `template.yaml` text (see `samTemplateObject`). */
export function samTemplate(planInput: unknown, options: SamTemplateOptions = {}): string {
  return `${toYaml(samTemplateObject(planInput, options)).trimStart()}\n`;
}

/**
 * Writes `template.yaml`, the unzipped code of every expert group (manifest, graphs and the stub that
 * loads the handler from the layer) and each architecture's runtime layer under `outDir`.
 * `sam deploy` packages the directories and creates the stack.
 */
export async function writeSamProject(planInput: unknown, options: SamProjectOptions): Promise<SamProject> {
  const plan = parsePlan(planInput);
  const { graphs, handlerBundle, ...data } = options;
  const { outDir, ...templateOptions } = parseWithSchema(
    samProjectOptionsSchema,
    data,
    'writeSamProject options',
  );
  const write = (dir: string, entries: Array<{ path: string; data: Uint8Array; mode?: number }>): void => {
    for (const entry of entries) {
      const target = join(dir, entry.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, entry.data, { mode: entry.mode ?? 0o644 });
    }
  };
  const functionDirs: string[] = [];
  const desired = desiredFunctions(plan);
  const groups = new Set<string>();
  for (const fn of desired) {
    if (groups.has(fn.baseName)) continue;
    groups.add(fn.baseName);
    const pkg = await packageExpertFunction({
      layer: fn.layer,
      experts: fn.experts,
      hiddenSize: plan.model.hiddenSize,
      graphs,
      arch: fn.arch,
      runtimeFromLayer: true,
    });
    const dir = join(outDir, functionDir(fn.baseName));
    write(dir, pkg.entries);
    functionDirs.push(dir);
  }
  const layerDirs: string[] = [];
  for (const arch of new Set(desired.map((fn) => fn.arch))) {
    const dir = join(outDir, layerDir(arch));
    write(dir, runtimeLayerPackage(arch, handlerBundle));
    layerDirs.push(dir);
  }
  const templatePath = join(outDir, 'template.yaml');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(templatePath, samTemplate(plan, templateOptions));
  return { templatePath, functionDirs, layerDirs };
}
