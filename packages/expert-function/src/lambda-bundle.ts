import { fileURLToPath, pathToFileURL } from 'node:url';

/** Whether this module runs from TypeScript source (under tsx or vitest) rather than from dist. */
const fromSource = import.meta.url.endsWith('.ts');

/**
 * Path of the built, self-contained handler bundle (`dist/lambda/expert-function.mjs`: core and zod
 * inlined, onnxruntime-node and the AWS SDK left to the zip's node_modules and the Node runtime). It
 * exists once the package is built.
 */
export function lambdaHandlerBundlePath(): string {
  return fileURLToPath(
    new URL(
      fromSource ? '../dist/lambda/expert-function.mjs' : './lambda/expert-function.mjs',
      import.meta.url,
    ),
  );
}

/**
 * The module a deployment that runs in place (a local directory) re-exports `handler` from: the
 * TypeScript source when Switchyard runs from source (its runtime then loads functions under tsx),
 * else the built bundle.
 */
export function lambdaHandlerModuleUrl(): string {
  return fromSource
    ? new URL('./lambda-handler.ts', import.meta.url).href
    : pathToFileURL(lambdaHandlerBundlePath()).href;
}
