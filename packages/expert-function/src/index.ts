export type { BinaryEnvelope } from './envelope.js';
export { ExpertFunctionError } from './errors.js';
export { createExpertFunction, type ExpertFunction } from './expert-function.js';
export { type ExpertManifest, expertManifestFile, expertManifestSchema } from './manifest.js';
export {
  type ExpertFunctionOptions,
  expertFunctionOptionsSchema,
  type ResolvedExpertFunctionOptions,
} from './options.js';
