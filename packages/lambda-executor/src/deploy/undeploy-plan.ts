import { DeleteFunctionCommand } from '@aws-sdk/client-lambda';
import { deploymentPlanSchema, noopLogger, parseWithSchema } from '@switchyard/core';
import { deploymentError, LambdaExecutorError } from '../errors.js';
import { type UndeployOptions, undeployOptionsSchema } from '../options.js';
import { explainAwsError } from './control-plane.js';
import { getFunction, ownedFunction } from './converge-function.js';
import type { DeployAction, DeployResult } from './deploy-plan.js';
import { write } from './deployment-context.js';
import { weightsTagKey } from './deployment-names.js';
import { desiredFunctions } from './desired-functions.js';
import { deleteExecutionRole } from './execution-role.js';
import { deploymentFunctions, openDeployment } from './lambda-target.js';
import { deleteRuntimeLayers } from './runtime-layer.js';
import { deleteDeploymentObjects } from './weights-bucket.js';

/** `s3://bucket/prefix` (a function's weights tag) → bucket and prefix. */
function parseWeightsTag(value: string | undefined): { bucket: string; prefix: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(value ?? '');
  return match ? { bucket: match[1] as string, prefix: match[2] as string } : undefined;
}

/**
 * Removes a deployment: every function of the plan's model (named in the plan or found by the
 * deployment tag) with its versions, aliases and provisioned concurrency; then the runtime layers'
 * versions, the deployment's tagged objects in the weights bucket (given, or recorded in the
 * functions' tags) and, on AWS, the execution role if the deployment created it. Anything of those names
 * without the deployment's tag is someone else's and is left alone. With `onlyPlanFunctions` it
 * deletes exactly the plan's functions and nothing shared (retiring one plan after a rollout).
 */
export async function undeployPlan(planInput: unknown, options: UndeployOptions): Promise<DeployResult> {
  const plan = parseWithSchema(deploymentPlanSchema, planInput, 'deployment plan', 'PLAN_INVALID');
  const { client, clients: givenClients, random, logger = noopLogger, ...data } = options;
  const resolved = parseWithSchema(undeployOptionsSchema, data, 'undeployPlan options');
  if (resolved.target === 'local' && !resolved.endpoint && !client && !givenClients?.lambda) {
    throw deploymentError('undeploying from a local runtime needs its endpoint (--endpoint)', 'endpoint');
  }
  const model = plan.model.name;
  const { clients, endpoint, context } = await openDeployment(resolved, model, {
    client,
    clients: givenClients,
    random,
    logger,
  });

  const result: DeployResult = {
    target: resolved.target,
    endpoint,
    dryRun: resolved.dryRun,
    functions: [],
    layers: [],
    objects: [],
    warnings: [],
  };
  try {
    const names = new Set(desiredFunctions(plan).map((fn) => fn.functionName));
    if (!resolved.onlyPlanFunctions) for (const name of await deploymentFunctions(context)) names.add(name);
    const buckets = new Map<string, { bucket: string; prefix: string }>();
    if (resolved.bucket)
      buckets.set(`${resolved.bucket}/${resolved.prefix}`, {
        bucket: resolved.bucket,
        prefix: resolved.prefix,
      });
    for (const name of names) {
      const current = await getFunction(context, name);
      if (!current) continue;
      if (!ownedFunction(current, model)) {
        result.warnings.push(`${name} is not this deployment's (no deployment tag for ${model}); left alone`);
        continue;
      }
      const weights = parseWeightsTag(current.Tags?.[weightsTagKey]);
      if (weights) buckets.set(`${weights.bucket}/${weights.prefix}`, weights);
      const action: DeployAction = { functionName: name, actions: ['delete'] };
      result.functions.push(action);
      await write(context, `DeleteFunction ${name}`, () =>
        clients.lambda.send(new DeleteFunctionCommand({ FunctionName: name })),
      );
    }
    if (!resolved.onlyPlanFunctions) {
      result.layers = await deleteRuntimeLayers(context);
      for (const { bucket, prefix } of buckets.values())
        result.objects.push(...(await deleteDeploymentObjects(context, bucket, prefix)));
      if (resolved.target === 'aws') {
        const role = await deleteExecutionRole(context);
        if (role) result.role = role;
      }
    }
    return result;
  } catch (error) {
    if (LambdaExecutorError.isInstance(error)) throw error;
    throw deploymentError(
      explainAwsError(error) ?? `undeploy failed: ${String(error)}`,
      resolved.endpoint ?? resolved.target,
      error,
    );
  } finally {
    clients.destroy();
  }
}
