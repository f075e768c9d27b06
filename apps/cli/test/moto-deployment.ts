import { GetRoleCommand, type IAMClient } from '@aws-sdk/client-iam';
import {
  type LambdaClient,
  ListFunctionsCommand,
  ListLayerVersionsCommand,
  ListTagsCommand,
} from '@aws-sdk/client-lambda';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';

export interface MotoDeployment {
  /** Functions tagged `switchyard:deployment`, sorted. */
  functions: string[];
  /** Versions of the model's runtime layer (x86_64). */
  layerVersions: string[];
  /** Every object in the bucket. */
  objects: string[];
  /** The execution role `--create-role` makes for the model, when it exists. */
  role: string | null;
}

/** What a Switchyard deployment of `model` has on moto: all empty after an undeploy. */
export async function deploymentOnMoto(
  clients: { lambda: LambdaClient; s3: S3Client; iam: IAMClient },
  options: { model: string; bucket: string },
): Promise<MotoDeployment> {
  const { lambda, s3, iam } = clients;
  const functions: string[] = [];
  for (const fn of (await lambda.send(new ListFunctionsCommand({}))).Functions ?? []) {
    const tags = await lambda.send(new ListTagsCommand({ Resource: fn.FunctionArn }));
    if (tags.Tags?.['switchyard:deployment']) functions.push(fn.FunctionName ?? '?');
  }
  const layer = await lambda
    .send(new ListLayerVersionsCommand({ LayerName: `switchyard-${options.model}-runtime-x86-64` }))
    .catch(() => ({ LayerVersions: [] }));
  const objects = (await s3.send(new ListObjectsV2Command({ Bucket: options.bucket }))).Contents ?? [];
  const role = await iam
    .send(new GetRoleCommand({ RoleName: `switchyard-${options.model}` }))
    .catch(() => undefined);
  return {
    functions: functions.sort(),
    layerVersions: (layer.LayerVersions ?? []).map((version) => version.LayerVersionArn ?? '?'),
    objects: objects.map((object) => object.Key ?? '?'),
    role: role?.Role?.RoleName ?? null,
  };
}
