export {
  type DeployAction,
  type DeployActionKind,
  type DeployResult,
  deployPlan,
} from './deploy/deploy-plan.js';
export type { Packaging } from './deploy/function-code.js';
export {
  containerDockerfile,
  type FunctionPackage,
  type PackageExpertFunctionOptions,
  packageExpertFunction,
} from './deploy/packaging.js';
export { type SamProject, samTemplate, writeSamProject } from './deploy/sam.js';
export { undeployPlan } from './deploy/undeploy-plan.js';
export { LambdaExecutorError } from './errors.js';
export { LambdaExecutor } from './executor/lambda-executor.js';
export {
  type DeployOptions,
  deployOptionsSchema,
  type ExpertGraphSource,
  type LambdaExecutorOptions,
  lambdaExecutorOptionsSchema,
  type ResolvedDeployOptions,
  type ResolvedLambdaExecutorOptions,
  type ResolvedUndeployOptions,
  type SamProjectOptions,
  type SamTemplateOptions,
  type UndeployOptions,
  undeployOptionsSchema,
} from './options.js';
