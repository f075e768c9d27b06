import { lambdaApiErrors } from './errors.js';

/**
 * The Node.js runtime identifiers Lambda takes for new functions and updates, and so the only ones
 * this runtime takes (architecture/aws-lambda-facts.md, "Runtimes").
 */
export const nodeRuntimes = ['nodejs22.x', 'nodejs24.x'] as const;
export type NodeRuntime = (typeof nodeRuntimes)[number];

/** Any Node.js runtime identifier, current or retired (`nodejs18.x`, `nodejs20.x`, …). */
const nodeRuntimePattern = /^nodejs(\d+)\.x$/;

/** The Node.js major a runtime identifier stands for (`nodejs22.x` → 22). */
export function nodeMajorOf(runtime: NodeRuntime): number {
  return Number(nodeRuntimePattern.exec(runtime)?.[1]);
}

/**
 * `Runtime` of CreateFunction / UpdateFunctionConfiguration, checked as Lambda checks it: required
 * for a .zip package; a retired Node.js runtime (nodejs20.x and older: deprecated, then closed to new
 * functions and to updates) is refused with Lambda's InvalidParameterValueException; anything else
 * than Node.js is refused because this runtime only runs Node.js handlers.
 */
export function checkRuntime(value: unknown): NodeRuntime {
  if (value === undefined || value === null || value === '') {
    throw lambdaApiErrors.invalid(
      `Runtime is required for a .zip file archive; supported runtimes here: ${nodeRuntimes.join(', ')}`,
    );
  }
  const runtime = String(value);
  if ((nodeRuntimes as readonly string[]).includes(runtime)) return runtime as NodeRuntime;
  if (nodeRuntimePattern.test(runtime)) {
    throw lambdaApiErrors.invalid(
      `The runtime parameter of ${runtime} is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime (${nodeRuntimes.join(', ')}) while creating or updating functions.`,
    );
  }
  throw lambdaApiErrors.invalid(
    `Runtime '${runtime}' cannot run here: the local runtime runs Node.js functions only (${nodeRuntimes.join(', ')})`,
  );
}
