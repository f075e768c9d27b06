import { basename } from 'node:path';
import { type ResolvedModelReference, resolveModelReference, SwitchyardError } from '@switchyard/core';
import type { Command } from 'commander';
import type { CliEnv } from './env.js';

/** How the model argument is described in every command's help. */
export const modelArgumentDescription =
  'checkpoint directory, or a hub id (org/name) in the local Hugging Face cache';

/**
 * Adds the positional `[model]` argument and, unless the command has one already, its `--model` alias
 * (the form older scripts use). Read both with `resolveModelArgument`.
 */
export function addModelArgument(command: Command, description = modelArgumentDescription): Command {
  command.argument('[model]', description);
  if (!command.options.some((option) => option.long === '--model'))
    command.option('--model <model>', 'the same as the positional model argument');
  return command;
}

export interface ModelArgument extends ResolvedModelReference {
  /** What to call the model: the hub id, or the directory's name. */
  name: string;
}

/** The model given positionally or with --model (not both, unless they agree). */
export function modelReferenceOf(
  positional: string | undefined,
  option: string | undefined,
): string | undefined {
  if (positional !== undefined && option !== undefined && positional !== option)
    throw new SwitchyardError({
      code: 'INVALID_INPUT',
      message: `two models given (${positional} and --model ${option}); give one`,
      location: '--model',
    });
  return positional ?? option;
}

/**
 * Resolves the model argument: a directory, or a hub id found in the local Hugging Face cache
 * (HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub). Without one: INVALID_INPUT, unless `fallback`.
 */
export function resolveModelArgument(
  positional: string | undefined,
  option: string | undefined,
  env: CliEnv,
  fallback?: string,
): ModelArgument {
  const reference = modelReferenceOf(positional, option) ?? fallback;
  if (reference === undefined)
    throw new SwitchyardError({
      code: 'INVALID_INPUT',
      message: 'no model given: pass a checkpoint directory or a hub id (org/name) as the first argument',
      location: 'model',
    });
  const resolved = resolveModelReference(reference, env);
  return { ...resolved, name: resolved.hubId ?? basename(resolved.directory) };
}
