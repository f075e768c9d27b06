import { createHash } from 'node:crypto';
import {
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { deploymentError } from '../errors.js';
import { awsErrorMessage, awsErrorName } from './control-plane.js';
import { type DeploymentContext, read, write } from './deployment-context.js';
import { deploymentKeyPrefix, deploymentTagKey } from './deployment-names.js';

/**
 * The region GetBucketLocation names: S3 answers an empty constraint for us-east-1 and the legacy
 * `EU` for eu-west-1.
 */
export function bucketRegion(locationConstraint: string | undefined | null): string {
  if (!locationConstraint) return 'us-east-1';
  if (locationConstraint === 'EU') return 'eu-west-1';
  return locationConstraint;
}

/**
 * Checks the weights bucket before anything is uploaded: it must exist, be readable, and be in the
 * functions' region — a function reads its graphs at INIT, and from another region that is slower,
 * billed as inter-region transfer, and fails outright where the bucket's region is not enabled.
 */
export async function checkBucket(context: DeploymentContext, bucket: string): Promise<void> {
  let location: string | undefined;
  try {
    const answer = await read(context, `GetBucketLocation ${bucket}`, () =>
      context.clients.s3.send(new GetBucketLocationCommand({ Bucket: bucket })),
    );
    location = answer.LocationConstraint;
  } catch (error) {
    const name = awsErrorName(error);
    if (name === 'NoSuchBucket')
      throw deploymentError(
        `the bucket ${bucket} does not exist; create it in ${context.region} first`,
        bucket,
        error,
      );
    if (name === 'AccessDenied')
      throw deploymentError(`no access to the bucket ${bucket} (s3:GetBucketLocation denied)`, bucket, error);
    throw deploymentError(`cannot read the bucket ${bucket}: ${awsErrorMessage(error)}`, bucket, error);
  }
  const region = bucketRegion(location);
  if (region !== context.region) {
    throw deploymentError(
      `the bucket ${bucket} is in ${region} but the functions deploy to ${context.region}; functions read their graphs at INIT from the bucket, so use a bucket in ${context.region} (or --region ${region})`,
      bucket,
    );
  }
}

/** An object of a deployment: where, how big, and its bytes (only until it is uploaded). */
export interface DeploymentObject {
  key: string;
  bytes: number;
  body: Uint8Array;
}

/**
 * A content-addressed object under the deployment's prefix: `<prefix><model>/<kind>/<sha256><ext>`,
 * so identical bytes are uploaded once and a key never changes meaning.
 */
export function contentAddressedObject(
  prefix: string,
  model: string,
  kind: 'graphs' | 'code',
  extension: string,
  body: Uint8Array,
): DeploymentObject {
  const digest = createHash('sha256').update(body).digest('hex');
  return {
    key: `${deploymentKeyPrefix(prefix, model)}${kind}/${digest}${extension}`,
    bytes: body.byteLength,
    body,
  };
}

/** What happened to one object. */
export interface ObjectAction {
  bucket: string;
  key: string;
  bytes?: number;
  actions: Array<'upload' | 'present' | 'delete'>;
}

/**
 * Uploads an object unless it is there already (HeadObject): content-addressed keys make "present"
 * mean "same bytes". Uploaded objects carry the deployment tag, which is how undeploy finds them.
 */
export async function uploadObject(
  context: DeploymentContext,
  bucket: string,
  object: DeploymentObject,
): Promise<ObjectAction> {
  const { s3 } = context.clients;
  try {
    await read(context, `HeadObject ${object.key}`, () =>
      s3.send(new HeadObjectCommand({ Bucket: bucket, Key: object.key })),
    );
    return { bucket, key: object.key, bytes: object.bytes, actions: ['present'] };
  } catch (error) {
    if (awsErrorName(error) !== 'NotFound' && awsErrorName(error) !== 'NoSuchKey') {
      throw deploymentError(
        `cannot check s3://${bucket}/${object.key}: ${awsErrorMessage(error)}`,
        bucket,
        error,
      );
    }
  }
  await write(context, `PutObject ${object.key}`, () =>
    s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: object.key,
        Body: object.body,
        ContentType: 'application/octet-stream',
        Tagging: new URLSearchParams({ [deploymentTagKey]: context.model }).toString(),
      }),
    ),
  );
  return { bucket, key: object.key, bytes: object.bytes, actions: ['upload'] };
}

/**
 * Deletes the deployment's objects: those under `<prefix><model>/` that carry its tag (an object
 * someone else put there is left alone).
 */
export async function deleteDeploymentObjects(
  context: DeploymentContext,
  bucket: string,
  prefix: string,
): Promise<ObjectAction[]> {
  const { s3 } = context.clients;
  const keyPrefix = deploymentKeyPrefix(prefix, context.model);
  const ours: string[] = [];
  let token: string | undefined;
  do {
    const page = await read(context, `ListObjectsV2 ${keyPrefix}`, () =>
      s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: keyPrefix, ContinuationToken: token })),
    );
    for (const object of page.Contents ?? []) {
      if (!object.Key) continue;
      const key = object.Key;
      const tagging = await read(context, `GetObjectTagging ${key}`, () =>
        s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key })),
      );
      if (tagging.TagSet?.some((tag) => tag.Key === deploymentTagKey && tag.Value === context.model))
        ours.push(key);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  // DeleteObjects takes up to 1,000 keys per call.
  for (let start = 0; start < ours.length; start += 1000) {
    const keys = ours.slice(start, start + 1000);
    await write(context, `DeleteObjects ${keyPrefix}`, async () => {
      const answer = await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      const failed = answer.Errors ?? [];
      if (failed.length > 0) {
        throw deploymentError(
          `S3 did not delete ${failed.length} object(s), e.g. ${failed[0]?.Key}: ${failed[0]?.Message}`,
          bucket,
        );
      }
    });
  }
  return ours.map((key) => ({ bucket, key, actions: ['delete'] }));
}
