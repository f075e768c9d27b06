import { buildPlan } from '@switchyard/testing/plans';
import { describe, expect, it } from 'vitest';
import { deployPlan } from './deploy-plan.js';

// Each of these is refused before any client is made or any call is sent.
const plan = buildPlan({ layers: [{ layer: 0, functions: [{ name: 'f', experts: [0], memoryMB: 512 }] }] });
const graphs = () => new Uint8Array(8);

describe('deployPlan options', () => {
  it.each([
    [
      { target: 'aws', createRole: true, roleArn: 'arn:aws:iam::123456789012:role/r' },
      /either roleArn \(--role-arn\) or createRole \(--create-role\), not both/,
    ],
    [{ target: 'aws' }, /needs an execution role: pass --role-arn ARN, or --create-role/],
    [
      { target: 'local', createRole: true },
      /the embedded runtime has no IAM: --create-role and --role-arn are for --target aws/,
    ],
    [
      { target: 'local', bucket: 'weights' },
      /graphs in S3 \(--bucket\) on the embedded runtime need an S3 that keeps object tags \(s3Endpoint/,
    ],
    [{ target: 'local', codeBucket: 'zips' }, /a code bucket \(--code-bucket\) is for --target aws/],
    [
      { target: 'aws', dryRun: false, offline: true, createRole: true },
      /offline planning is a dry run against AWS: pass --dry-run --target aws/,
    ],
    [{ target: 'aws', createRole: true, bucket: 'Has_Upper' }, /S3 bucket names are 3–63 of a–z 0–9 \. -/],
    [
      { target: 'aws', createRole: true, bucket: 'ok-bucket', prefix: '/abs' },
      /an S3 key prefix does not start with \//,
    ],
    [{ target: 'aws', createRole: true, runtime: 'nodejs20.x' }, /runtime/],
  ])('refuses %j', async (options, message) => {
    await expect(deployPlan(plan, { ...(options as { target: 'aws' }), graphs })).rejects.toThrow(message);
  });

  it('refuses --create-role for a plan that exchanges activations through S3 (the role reads weights only)', async () => {
    const s3Plan = buildPlan({
      layers: [{ layer: 2, method: 's3', functions: [{ name: 'f', experts: [0], memoryMB: 512 }] }],
    });
    await expect(deployPlan(s3Plan, { target: 'aws', createRole: true, graphs })).rejects.toThrow(
      /layer 2 of the plan exchanges activations through S3, which the role --create-role makes cannot read or write/,
    );
  });
});
