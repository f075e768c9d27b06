import { createHash } from 'node:crypto';

/**
 * Names and tags that mark what a deployment created, so that `undeployPlan` finds exactly that and
 * nothing else. Functions and the role carry `switchyard:deployment = <model>`; S3 objects carry it
 * as an object tag; layers cannot be tagged in Lambda, so their names are derived from the model.
 */
export const deploymentTagKey = 'switchyard:deployment';
/** Tag of a function: the MoE layer it serves. */
export const layerTagKey = 'switchyard:layer';
/** Tag of a function whose `live` alias this deployment gave provisioned concurrency (its value). */
export const provisionedConcurrencyTagKey = 'switchyard:provisioned-concurrency';
/** Tag of a function whose graphs are in S3: `s3://bucket/prefix` (how undeploy finds the objects). */
export const weightsTagKey = 'switchyard:weights';

/** The alias every deployment points at the version it published; the executor invokes it. */
export const liveAlias = 'live';

/**
 * `text` reduced to `allowed` characters and `maxLength`; when anything had to change, a short hash
 * of the original is appended so that two different models never share a name.
 */
function safeName(text: string, allowed: RegExp, maxLength: number): string {
  const cleaned = text.replace(allowed, '-');
  if (cleaned === text && cleaned.length <= maxLength) return cleaned;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 8);
  return `${cleaned.slice(0, maxLength - hash.length - 1)}-${hash}`;
}

/** The execution role `createRole` makes: IAM role names are 1–64 of `[A-Za-z0-9+=,.@_-]`. */
export function executionRoleName(model: string): string {
  return safeName(`switchyard-${model}`, /[^A-Za-z0-9+=,.@_-]/g, 64);
}

/** The inline policy of that role. */
export const executionRolePolicyName = 'switchyard-expert-function';

/** The shared runtime layer of one architecture: Lambda layer names are 1–140 of `[A-Za-z0-9_-]`. */
export function runtimeLayerName(model: string, arch: 'x86_64' | 'arm64'): string {
  return safeName(`switchyard-${model}-runtime-${arch.replace('_', '-')}`, /[^A-Za-z0-9_-]/g, 140);
}

/** Where a deployment's S3 objects go: `<prefix><model>/` (the prefix is '' or ends in '/'). */
export function deploymentKeyPrefix(prefix: string, model: string): string {
  return `${prefix}${safeName(model, /[^A-Za-z0-9._-]/g, 200)}/`;
}

/** The role name of a role ARN (`arn:aws:iam::123456789012:role/path/name` → `name`). */
export function roleNameFromArn(roleArn: string): string | undefined {
  const match = /^arn:aws[a-z-]*:iam::\d{12}:role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
  return match?.[1];
}
