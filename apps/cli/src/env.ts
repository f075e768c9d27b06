import type { ServingSettings } from '@switchyard/serving/http';
import { z } from 'zod';

/** The only place the CLI reads process.env. */
const envSchema = z.object({
  SWITCHYARD_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('warn'),
  NO_COLOR: z.string().optional(),
  FORCE_COLOR: z.string().optional(),
  CI: z.string().optional(),
  AWS_REGION: z.string().optional(),
  SWITCHYARD_ENDPOINT: z.string().url().optional(),
  // Where hub ids (org/name) are looked up: Hugging Face's own variables (never downloaded).
  HF_HUB_CACHE: z.string().optional(),
  HF_HOME: z.string().optional(),
  XDG_CACHE_HOME: z.string().optional(),
  HOME: z.string().optional(),
});

export type CliEnv = z.output<typeof envSchema>;

export function readEnv(source: NodeJS.ProcessEnv = process.env): CliEnv {
  return envSchema.parse(source);
}

/**
 * What the SWITCHYARD_* serving variables set, for `switchyard serve` (its flags override them). The
 * serving module is loaded on use: it pulls in onnxruntime, which other commands do not need.
 */
export async function readServingSettings(source: NodeJS.ProcessEnv = process.env): Promise<ServingSettings> {
  const { parseServingEnv, settingsFromEnv } = await import('@switchyard/serving/http');
  return settingsFromEnv(parseServingEnv(source));
}

/**
 * The AWS SDK prints a multi-line notice about future Node versions on first use; the CLI keeps
 * stderr to its own one-line messages, so it is silenced unless --verbose (the SDK's own switch).
 */
export function quietThirdPartyNotices(verbose: boolean, target: NodeJS.ProcessEnv = process.env): void {
  if (!verbose) target.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
