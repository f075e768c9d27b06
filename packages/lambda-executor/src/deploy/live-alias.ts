import {
  GetFunctionConfigurationCommand,
  type LambdaClient,
  UpdateAliasCommand,
} from '@aws-sdk/client-lambda';
import { type Logger, parseWithSchema } from '@switchyard/core';
import { deploymentError } from '../errors.js';
import { controlPlaneSchema } from '../options.js';
import { ControlPlane } from './control-plane.js';
import { liveAlias } from './deployment-names.js';

/** A function whose `live` alias moves from the version that serves now to a newly published one. */
export interface LiveRoute {
  functionName: string;
  /** The version `live` points at now. */
  from: string;
  /** The version it moves to (`DeployAction.version` of a `stageLive` deployment). */
  to: string;
}

/**
 * Routes a share of a function's `live` invocations to a new version, as Lambda's weighted aliases do
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuring-alias-routing.html): below 1, `live`
 * stays on `from` and sends `weight` of its invocations to `to` — both versions run the same experts,
 * so callers cannot tell them apart while the new one warms; at 1 it points at `to` alone and takes
 * `to`'s description, the mark by which a later `deployPlan` of the same plan finds it current. Calls
 * are retried as deployments retry them (conflicts, throttling).
 */
export async function routeLiveAlias(
  client: LambdaClient,
  route: LiveRoute,
  weight: number,
  logger?: Logger,
): Promise<void> {
  if (!(weight >= 0 && weight <= 1)) {
    throw deploymentError(`a routing weight is between 0 and 1, got ${weight}`, route.functionName);
  }
  const controlPlane = new ControlPlane(parseWithSchema(controlPlaneSchema, {}, 'control plane'), { logger });
  const { functionName, from, to } = route;
  if (weight < 1 && from !== to) {
    await controlPlane.call(`UpdateAlias ${functionName}:${liveAlias} (${weight} to ${to})`, () =>
      client.send(
        new UpdateAliasCommand({
          FunctionName: functionName,
          Name: liveAlias,
          FunctionVersion: from,
          RoutingConfig: { AdditionalVersionWeights: weight > 0 ? { [to]: weight } : {} },
        }),
      ),
    );
    return;
  }
  const target = weight < 1 ? from : to;
  const version = await controlPlane.call(`GetFunctionConfiguration ${functionName}:${target}`, () =>
    client.send(new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: target })),
  );
  await controlPlane.call(`UpdateAlias ${functionName}:${liveAlias} (${target})`, () =>
    client.send(
      new UpdateAliasCommand({
        FunctionName: functionName,
        Name: liveAlias,
        FunctionVersion: target,
        Description: version.Description,
        RoutingConfig: { AdditionalVersionWeights: {} },
      }),
    ),
  );
}
