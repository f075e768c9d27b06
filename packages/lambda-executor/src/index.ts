export {
  type DeployAction,
  type DeployActionKind,
  type DeployResult,
  deployPlan,
} from './deploy/deploy-plan.js';
export { liveAlias } from './deploy/deployment-names.js';
export {
  type DoctorCheck,
  type DoctorReport,
  doctorAwsTarget,
} from './deploy/doctor.js';
export type { RoleAction } from './deploy/execution-role.js';
export type { Packaging } from './deploy/function-code.js';
export { type LiveRoute, routeLiveAlias } from './deploy/live-alias.js';
export {
  containerDockerfile,
  type FunctionPackage,
  type PackageExpertFunctionOptions,
  packageExpertFunction,
} from './deploy/packaging.js';
export type { LayerAction } from './deploy/runtime-layer.js';
export {
  type CloudFormationTemplate,
  type SamProject,
  samTemplate,
  samTemplateObject,
  writeSamProject,
} from './deploy/sam.js';
export { undeployPlan } from './deploy/undeploy-plan.js';
export type { ObjectAction } from './deploy/weights-bucket.js';
export { LambdaExecutorError } from './errors.js';
export { LambdaExecutor } from './executor/lambda-executor.js';
export {
  type ControlPlaneOptions,
  type DeploymentClients,
  type DeployOptions,
  type DoctorOptions,
  deployOptionsSchema,
  doctorOptionsSchema,
  type ExpertGraphSource,
  type FunctionRuntime,
  functionRuntimes,
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
