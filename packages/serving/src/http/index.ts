export { HttpError, type HttpErrorOptions } from '../errors.js';
export { type RunningServer, type ServerDependencies, startServer } from './http-server.js';
export { type HttpServingStack, serve } from './serve.js';
export type { ServerMetrics } from './server-metrics.js';
export { type ResolvedServerOptions, type ServerOptions, serverOptionsSchema } from './server-options.js';
export {
  parseServingEnv,
  type ServingEnv,
  type ServingSettings,
  servingConfiguration,
  servingEnvSchema,
  settingsFromEnv,
} from './serving-settings.js';
