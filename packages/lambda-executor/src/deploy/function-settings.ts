import { expertProcessEnvironment } from '@switchyard/core';

/** Environment variable that marks a function as deployed by Switchyard for a model (for pruning). */
export const deploymentEnvVar = 'SWITCHYARD_DEPLOYMENT';

/** The handler of every expert function: `expert-function.mjs` (the bundle) exports `handler`. */
export const expertFunctionHandler = 'expert-function.handler';

/** The Node.js runtime expert functions are created with unless `runtime` says otherwise. */
export const defaultFunctionRuntime = 'nodejs22.x';

/** The execution role of functions on the embedded runtime, which checks no role. */
export const localRoleArn = 'arn:aws:iam::000000000000:role/switchyard-local';

/**
 * Environment every expert function gets besides `SWITCHYARD_DEPLOYMENT`: core's
 * `expertProcessEnvironment` (glibc malloc thresholds, so an invocation's large temporary buffers are
 * not handed back to the kernel and faulted in again on the next one).
 * `pnpm --filter @switchyard/lambda-executor bench:malloc` measures it against glibc's defaults.
 */
export const expertFunctionEnvironment: Readonly<Record<string, string>> = expertProcessEnvironment;

/** The whole environment of a function deployed for `modelName`: the marker, then the expert settings. */
export function deployedEnvironment(modelName: string): Record<string, string> {
  return { [deploymentEnvVar]: modelName, ...expertFunctionEnvironment };
}
