import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type DeploymentPlan, deploymentPlanSchema, parseWithSchema } from '@switchyard/core';
import {
  type SamProjectOptions,
  type SamTemplateOptions,
  samProjectOptionsSchema,
  samTemplateOptionsSchema,
} from '../options.js';
import { defaultFunctionRuntime, deployedEnvironment, expertFunctionHandler } from './function-settings.js';
import { packageExpertFunction } from './packaging.js';

/** What `writeSamProject` wrote. */
export interface SamProject {
  templatePath: string;
  /** One code directory per expert group, shared by its replicas. */
  functionDirs: string[];
}

/** CloudFormation logical ids are alphanumeric. */
function logicalId(functionName: string): string {
  return `Fn${functionName.replace(/[^A-Za-z0-9]/g, '')}`;
}

function parsePlan(planInput: unknown): DeploymentPlan {
  return parseWithSchema(deploymentPlanSchema, planInput, 'deployment plan', 'PLAN_INVALID');
}

/**
 * An AWS SAM template for a plan: one `AWS::Serverless::Function` per function name, code from
 * `functions/<group>/` (one directory per expert group, shared by its replicas).
 */
export function samTemplate(planInput: unknown, options: SamTemplateOptions = {}): string {
  const plan = parsePlan(planInput);
  const { timeoutSeconds } = parseWithSchema(samTemplateOptionsSchema, options, 'samTemplate options');
  const lines = [
    "AWSTemplateFormatVersion: '2010-09-09'",
    'Transform: AWS::Serverless-2016-10-31',
    `Description: Switchyard expert functions for ${plan.model.name} (generated)`,
    'Resources:',
  ];
  const environment = Object.entries(deployedEnvironment(plan.model.name)).map(
    ([name, value]) => `          ${name}: ${JSON.stringify(value)}`,
  );
  for (const layer of plan.layers) {
    for (const fn of layer.functions) {
      for (const name of fn.functionNames) {
        lines.push(
          `  ${logicalId(name)}:`,
          '    Type: AWS::Serverless::Function',
          '    Properties:',
          `      FunctionName: ${name}`,
          `      CodeUri: functions/${fn.name}/`,
          `      Handler: ${expertFunctionHandler}`,
          `      Runtime: ${defaultFunctionRuntime}`,
          `      Architectures: [${plan.arch}]`,
          `      MemorySize: ${fn.memoryMB}`,
          `      Timeout: ${timeoutSeconds}`,
          ...(fn.reservedConcurrency === undefined
            ? []
            : [`      ReservedConcurrentExecutions: ${fn.reservedConcurrency}`]),
          '      Environment:',
          '        Variables:',
          ...environment,
          `      Description: ${JSON.stringify(`layer ${layer.layer} experts ${fn.experts.join(',')}`)}`,
        );
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Writes `template.yaml` and the unzipped code of every expert group under `outDir`. */
export async function writeSamProject(planInput: unknown, options: SamProjectOptions): Promise<SamProject> {
  const plan = parsePlan(planInput);
  const { graphs, handlerBundle, ...data } = options;
  const { outDir, timeoutSeconds } = parseWithSchema(
    samProjectOptionsSchema,
    data,
    'writeSamProject options',
  );
  const functionDirs: string[] = [];
  for (const layer of plan.layers) {
    for (const fn of layer.functions) {
      const pkg = await packageExpertFunction({
        layer: layer.layer,
        experts: fn.experts,
        hiddenSize: plan.model.hiddenSize,
        graphs,
        arch: plan.arch,
        handlerBundle,
      });
      const dir = join(outDir, 'functions', fn.name);
      for (const entry of pkg.entries) {
        const target = join(dir, entry.path);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, entry.data, { mode: entry.mode ?? 0o644 });
      }
      functionDirs.push(dir);
    }
  }
  const templatePath = join(outDir, 'template.yaml');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(templatePath, samTemplate(plan, { timeoutSeconds }));
  return { templatePath, functionDirs };
}
