import { expectTypeOf, test } from 'vitest';
import type * as api from './index.js';

// The public surface of @switchyard/lambda-executor. Adding or removing an export is a decision: change
// this list in the same commit (tooling/scripts/api-surface.ts prints the current one).
test('@switchyard/lambda-executor exports the executor, deployment and packaging entry points', () => {
  expectTypeOf<keyof typeof api>().toEqualTypeOf<
    | 'LambdaExecutor'
    | 'LambdaExecutorError'
    | 'containerDockerfile'
    | 'deployOptionsSchema'
    | 'deployPlan'
    | 'doctorAwsTarget'
    | 'doctorOptionsSchema'
    | 'functionRuntimes'
    | 'lambdaExecutorOptionsSchema'
    | 'liveAlias'
    | 'packageExpertFunction'
    | 'routeLiveAlias'
    | 'samTemplate'
    | 'samTemplateObject'
    | 'undeployOptionsSchema'
    | 'undeployPlan'
    | 'writeSamProject'
  >();
  expectTypeOf<typeof api.deployPlan>().returns.toEqualTypeOf<Promise<api.DeployResult>>();
  expectTypeOf<typeof api.deployPlan>().parameter(1).toEqualTypeOf<api.DeployOptions>();
  expectTypeOf<typeof api.undeployPlan>().parameter(1).toEqualTypeOf<api.UndeployOptions>();
  expectTypeOf<api.LambdaExecutorError['functionErrorType']>().toEqualTypeOf<string | undefined>();
});
