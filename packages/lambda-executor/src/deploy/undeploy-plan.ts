import { DeleteFunctionCommand } from '@aws-sdk/client-lambda';
import { deploymentPlanSchema, parseWithSchema } from '@switchyard/core';
import { deploymentError } from '../errors.js';
import { type UndeployOptions, undeployOptionsSchema } from '../options.js';
import type { DeployAction, DeployResult } from './deploy-plan.js';
import { desiredFunctions } from './desired-functions.js';
import { deployedFunctionNames, describeFunction, resolveTarget } from './lambda-target.js';

/**
 * Deletes every function of the plan's model (named in the plan or marked for the model), or with
 * `onlyPlanFunctions` exactly the functions the plan names (retiring one plan after a rollout).
 */
export async function undeployPlan(planInput: unknown, options: UndeployOptions): Promise<DeployResult> {
  const plan = parseWithSchema(deploymentPlanSchema, planInput, 'deployment plan', 'PLAN_INVALID');
  const { client: givenClient, logger, ...data } = options;
  const resolved = parseWithSchema(undeployOptionsSchema, data, 'undeployPlan options');
  if (resolved.target === 'local' && !resolved.endpoint && !givenClient) {
    throw deploymentError('undeploying from a local runtime needs its endpoint (--endpoint)', 'endpoint');
  }
  const { client, endpoint, ownsClient } = await resolveTarget({ ...resolved, client: givenClient, logger });
  try {
    const names = new Set(desiredFunctions(plan).map((fn) => fn.functionName));
    if (!resolved.onlyPlanFunctions) {
      for (const name of await deployedFunctionNames(client, plan.model.name)) names.add(name);
    }
    const functions: DeployAction[] = [];
    for (const name of names) {
      if (!(await describeFunction(client, name))) continue;
      functions.push({ functionName: name, actions: ['delete'] });
      if (!resolved.dryRun) await client.send(new DeleteFunctionCommand({ FunctionName: name }));
    }
    return { target: resolved.target, endpoint, dryRun: resolved.dryRun, functions };
  } finally {
    if (ownsClient) client.destroy();
  }
}
