import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { SwitchyardError } from './errors.js';

/** Where a model reference led. */
export interface ResolvedModelReference {
  /** The checkpoint directory (absolute). */
  directory: string;
  /** `directory`: the reference was a path; `hub-cache`: a hub id found in the local Hugging Face cache. */
  source: 'directory' | 'hub-cache';
  /** The hub id (`org/name`) when the reference was one. */
  hubId?: string;
  /** The snapshot's commit hash (from `refs/main`) for a hub id. */
  revision?: string;
}

/** The environment variables a model reference reads (Hugging Face's own, and HOME). */
export interface ModelReferenceEnv {
  HF_HUB_CACHE?: string;
  HF_HOME?: string;
  XDG_CACHE_HOME?: string;
  HOME?: string;
  [name: string]: string | undefined;
}

/** A hub id as users type it: `org/name` (letters, digits, `-`, `_`, `.`), no path parts. */
const hubIdPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * The hub caches to look in, in Hugging Face's order of precedence: `HF_HUB_CACHE`, then `HF_HOME/hub`,
 * then `$XDG_CACHE_HOME/huggingface/hub`, then `~/.cache/huggingface/hub`. All are looked in (the first
 * holding the model wins), so a model downloaded under another setting is still found.
 */
export function hubCacheDirectories(env: ModelReferenceEnv): string[] {
  const home = env.HOME && env.HOME !== '' ? env.HOME : homedir();
  const candidates = [
    env.HF_HUB_CACHE,
    env.HF_HOME ? join(env.HF_HOME, 'hub') : undefined,
    env.XDG_CACHE_HOME ? join(env.XDG_CACHE_HOME, 'huggingface', 'hub') : undefined,
    join(home, '.cache', 'huggingface', 'hub'),
  ];
  return [...new Set(candidates.filter((dir): dir is string => dir !== undefined && dir !== ''))];
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Resolves a model reference as users type it: a checkpoint directory, or a hub id `org/name` found in
 * the local Hugging Face cache (`models--org--name/refs/main` names the snapshot, `snapshots/<hash>` holds
 * the files). Nothing is ever downloaded. NOT_FOUND names every place looked.
 */
export function resolveModelReference(
  reference: string,
  env: ModelReferenceEnv = {},
): ResolvedModelReference {
  if (typeof reference !== 'string' || reference.trim() === '')
    throw new SwitchyardError({
      code: 'INVALID_INPUT',
      message: 'the model reference is empty',
      location: 'model',
    });
  const asPath = resolve(reference);
  if (isDirectory(asPath)) return { directory: asPath, source: 'directory' };
  if (existsSync(asPath))
    throw new SwitchyardError({
      code: 'INVALID_INPUT',
      message: `model ${reference} is a file; give the checkpoint's directory`,
      location: asPath,
    });
  const looked = [`${asPath} (as a directory)`];
  if (isAbsolute(reference) || reference.startsWith('.') || !hubIdPattern.test(reference))
    throw new SwitchyardError({
      code: 'NOT_FOUND',
      message: `model directory not found: ${reference} (a hub id has the form org/name)`,
      location: asPath,
    });
  const [org, name] = reference.split('/') as [string, string];
  const folder = `models--${org}--${name}`;
  for (const cache of hubCacheDirectories(env)) {
    const repository = join(cache, folder);
    if (!isDirectory(repository)) {
      looked.push(repository);
      continue;
    }
    const refPath = join(repository, 'refs', 'main');
    if (!existsSync(refPath)) {
      looked.push(`${refPath} (missing)`);
      continue;
    }
    const revision = readFileSync(refPath, 'utf8').trim();
    const snapshot = join(repository, 'snapshots', revision);
    if (revision === '' || !isDirectory(snapshot)) {
      looked.push(`${snapshot} (refs/main names it; missing)`);
      continue;
    }
    return { directory: snapshot, source: 'hub-cache', hubId: reference, revision };
  }
  throw new SwitchyardError({
    code: 'NOT_FOUND',
    message: `model ${reference} is neither a directory nor in the local Hugging Face cache; looked in: ${looked.join(', ')}. Switchyard never downloads models: fetch it first (e.g. \`hf download ${reference}\`) or give its directory`,
    location: reference,
  });
}
