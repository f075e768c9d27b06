import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type DeploymentPlan, deploymentPlanSchema, parseWithSchema } from '@switchyard/core';
import { deploymentEnvVar, expertFunctionEnvironment, expertFunctionHandler } from './deploy.js';
import { type ExpertGraphSource, packageExpertFunction } from './packaging.js';

/** CloudFormation logical ids are alphanumeric. */
function logicalId(functionName: string): string {
  return `Fn${functionName.replace(/[^A-Za-z0-9]/g, '')}`;
}

/**
 * An AWS SAM template for a plan: one `AWS::Serverless::Function` per function name, code from
 * `functions/<group>/` (one directory per expert group, shared by its replicas).
 */
export function samTemplate(planInput: unknown, options: { timeoutSeconds?: number } = {}): string {
  const plan: DeploymentPlan = parseWithSchema(
    deploymentPlanSchema,
    planInput,
    'deployment plan',
    'PLAN_INVALID',
  );
  const lines = [
    "AWSTemplateFormatVersion: '2010-09-09'",
    'Transform: AWS::Serverless-2016-10-31',
    `Description: Switchyard expert functions for ${plan.model.name} (generated)`,
    'Resources:',
  ];
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
          '      Runtime: nodejs20.x',
          `      Architectures: [${plan.arch}]`,
          `      MemorySize: ${fn.memoryMB}`,
          `      Timeout: ${options.timeoutSeconds ?? 60}`,
          ...(fn.reservedConcurrency === undefined
            ? []
            : [`      ReservedConcurrentExecutions: ${fn.reservedConcurrency}`]),
          '      Environment:',
          '        Variables:',
          `          ${deploymentEnvVar}: ${JSON.stringify(plan.model.name)}`,
          ...Object.entries(expertFunctionEnvironment).map(
            ([name, value]) => `          ${name}: ${JSON.stringify(value)}`,
          ),
          `      Description: ${JSON.stringify(`layer ${layer.layer} experts ${fn.experts.join(',')}`)}`,
        );
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Writes `template.yaml` and the unzipped code of every expert group under `outDir`. */
export async function writeSamProject(
  planInput: unknown,
  options: { outDir: string; graphs: ExpertGraphSource; handlerBundle?: Uint8Array; timeoutSeconds?: number },
): Promise<{ templatePath: string; functionDirs: string[] }> {
  const plan: DeploymentPlan = parseWithSchema(
    deploymentPlanSchema,
    planInput,
    'deployment plan',
    'PLAN_INVALID',
  );
  const functionDirs: string[] = [];
  for (const layer of plan.layers) {
    for (const fn of layer.functions) {
      const pkg = await packageExpertFunction({
        layer: layer.layer,
        experts: fn.experts,
        hiddenSize: plan.model.hiddenSize,
        graphs: options.graphs,
        arch: plan.arch,
        ...(options.handlerBundle ? { handlerBundle: options.handlerBundle } : {}),
      });
      const dir = join(options.outDir, 'functions', fn.name);
      for (const entry of pkg.entries) {
        const target = join(dir, entry.path);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, entry.data, { mode: entry.mode ?? 0o644 });
      }
      functionDirs.push(dir);
    }
  }
  const templatePath = join(options.outDir, 'template.yaml');
  mkdirSync(options.outDir, { recursive: true });
  writeFileSync(templatePath, samTemplate(plan, options));
  return { templatePath, functionDirs };
}
