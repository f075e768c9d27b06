import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseWithSchema, resolveModelReference, SwitchyardError } from '@switchyard/core';
import { parseServingEnv, type ServingSettings, settingsFromEnv } from '@switchyard/serving/http';
import { z } from 'zod';

/** The app's own variable; the SWITCHYARD_* serving variables are `@switchyard/serving/http`'s. */
const appEnvSchema = z.object({
  SWITCHYARD_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
});

export interface ServerEnv {
  logLevel: z.output<typeof appEnvSchema>['SWITCHYARD_LOG_LEVEL'];
  /** What the SWITCHYARD_* variables set; unset ones keep the options' defaults. */
  settings: ServingSettings;
}

/**
 * The only place the server reads process.env. SWITCHYARD_MODEL_DIR may be a directory or a hub id
 * (`org/name`) in the local Hugging Face cache (HF_HUB_CACHE, HF_HOME, ~/.cache/huggingface/hub); a hub
 * id is served under its name unless SWITCHYARD_MODEL_NAME says otherwise.
 */
export function readServerEnv(source: NodeJS.ProcessEnv = process.env): ServerEnv {
  const app = parseWithSchema(
    appEnvSchema,
    { SWITCHYARD_LOG_LEVEL: source.SWITCHYARD_LOG_LEVEL },
    'environment variable SWITCHYARD_LOG_LEVEL',
    'INVALID_CONFIG',
  );
  const settings = settingsFromEnv(parseServingEnv(source));
  if (settings.modelDir !== undefined) {
    const model = resolveModelReference(settings.modelDir, source);
    settings.modelDir = model.directory;
    settings.modelName ??= model.hubId;
  }
  return { logLevel: app.SWITCHYARD_LOG_LEVEL, settings };
}

/** The bundled demo model, found by walking up from this file to the repository's `fixtures/`. */
export function bundledModelDir(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (let i = 0; i < 8; i++) {
    const candidate = resolve(dir, 'fixtures/checkpoints/shakespeare-mixtral-8x2');
    if (existsSync(join(candidate, 'config.json'))) return candidate;
    dir = dirname(dir);
  }
  throw new SwitchyardError({
    code: 'NOT_FOUND',
    message:
      'the bundled model fixtures/checkpoints/shakespeare-mixtral-8x2 was not found; set SWITCHYARD_MODEL_DIR',
  });
}
