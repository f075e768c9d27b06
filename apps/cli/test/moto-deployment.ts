import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  LambdaClient,
  ListFunctionsCommand,
  ListLayerVersionsCommand,
  ListTagsCommand,
} from '@aws-sdk/client-lambda';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { motoCredentials } from '@switchyard/testing/moto';

export interface MotoClients {
  lambda: LambdaClient;
  s3: S3Client;
  iam: IAMClient;
  destroy(): void;
}

/** Lambda, S3 (path style) and IAM clients on moto in us-east-1, with `bucket` created. */
export async function motoClients(endpoint: string, bucket: string): Promise<MotoClients> {
  const clientOptions = { endpoint, region: 'us-east-1', credentials: motoCredentials };
  const lambda = new LambdaClient(clientOptions);
  const s3 = new S3Client({ ...clientOptions, forcePathStyle: true });
  const iam = new IAMClient(clientOptions);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    lambda,
    s3,
    iam,
    destroy: () => {
      for (const client of [lambda, s3, iam]) client.destroy();
    },
  };
}

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
  clients: Pick<MotoClients, 'lambda' | 's3' | 'iam'>,
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
