import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SwitchyardError } from './errors.js';
import { hubCacheDirectories, resolveModelReference } from './model-reference.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'switchyard-hub-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Lays out a model in a hub cache as huggingface_hub does: refs/main names the snapshot. */
function cacheModel(cache: string, hubId: string, revision = 'a1b2c3'): string {
  const repository = join(cache, `models--${hubId.replace('/', '--')}`);
  const snapshot = join(repository, 'snapshots', revision);
  mkdirSync(snapshot, { recursive: true });
  mkdirSync(join(repository, 'refs'), { recursive: true });
  writeFileSync(join(repository, 'refs', 'main'), `${revision}\n`);
  writeFileSync(join(snapshot, 'config.json'), '{}');
  return snapshot;
}

function notFound(reference: string, env: Record<string, string>): SwitchyardError {
  try {
    resolveModelReference(reference, env);
  } catch (error) {
    expect(SwitchyardError.isInstance(error)).toBe(true);
    return error as SwitchyardError;
  }
  throw new Error('should have failed');
}

describe('resolveModelReference', () => {
  test('an existing directory is itself', () => {
    expect(resolveModelReference(root, {})).toEqual({ directory: root, source: 'directory' });
  });

  test('a hub id resolves to the snapshot refs/main names, in HF_HUB_CACHE', () => {
    const cache = join(root, 'hub-cache');
    const snapshot = cacheModel(cache, 'Qwen/Qwen3-30B-A3B', 'deadbeef');
    expect(
      resolveModelReference('Qwen/Qwen3-30B-A3B', { HF_HUB_CACHE: cache, HOME: join(root, 'home') }),
    ).toEqual({
      directory: snapshot,
      source: 'hub-cache',
      hubId: 'Qwen/Qwen3-30B-A3B',
      revision: 'deadbeef',
    });
  });

  test('HF_HOME/hub and ~/.cache/huggingface/hub are looked in too', () => {
    const hfHome = join(root, 'hf-home');
    const snapshot = cacheModel(join(hfHome, 'hub'), 'openai/gpt-oss-20b');
    expect(
      resolveModelReference('openai/gpt-oss-20b', { HF_HOME: hfHome, HOME: join(root, 'home') }).directory,
    ).toBe(snapshot);
    const home = join(root, 'home');
    const inHome = cacheModel(join(home, '.cache', 'huggingface', 'hub'), 'mistralai/Mixtral-8x7B-v0.1');
    expect(resolveModelReference('mistralai/Mixtral-8x7B-v0.1', { HOME: home }).directory).toBe(inHome);
  });

  test('a hub id nowhere is NOT_FOUND naming every place looked, never a download', () => {
    const env = { HF_HUB_CACHE: join(root, 'c1'), HF_HOME: join(root, 'h1'), HOME: join(root, 'nohome') };
    const error = notFound('org/missing-model', env);
    expect(error.code).toBe('NOT_FOUND');
    for (const place of [
      join(root, 'c1', 'models--org--missing-model'),
      join(root, 'h1', 'hub', 'models--org--missing-model'),
      join(root, 'nohome', '.cache', 'huggingface', 'hub', 'models--org--missing-model'),
    ])
      expect(error.message).toContain(place);
    expect(error.message).toContain('never downloads');
  });

  test('a cached repository without refs/main or its snapshot says so', () => {
    const cache = join(root, 'broken');
    mkdirSync(join(cache, 'models--org--norefs'), { recursive: true });
    expect(notFound('org/norefs', { HF_HUB_CACHE: cache, HOME: root }).message).toMatch(
      /refs\/main \(missing\)/,
    );
    mkdirSync(join(cache, 'models--org--nosnap', 'refs'), { recursive: true });
    writeFileSync(join(cache, 'models--org--nosnap', 'refs', 'main'), 'cafe');
    expect(notFound('org/nosnap', { HF_HUB_CACHE: cache, HOME: root }).message).toMatch(/snapshots\/cafe/);
  });

  test('a path that is not a hub id, a file, or nothing at all is refused clearly', () => {
    expect(notFound('./no/such/dir', { HOME: root }).message).toMatch(/model directory not found/);
    const file = join(root, 'file.txt');
    writeFileSync(file, 'x');
    expect(notFound(file, { HOME: root }).code).toBe('INVALID_INPUT');
    expect(notFound('', { HOME: root }).code).toBe('INVALID_INPUT');
  });

  test('hubCacheDirectories follows precedence and drops duplicates', () => {
    expect(
      hubCacheDirectories({ HF_HUB_CACHE: '/a', HF_HOME: '/b', XDG_CACHE_HOME: '/c', HOME: '/h' }),
    ).toEqual(['/a', '/b/hub', '/c/huggingface/hub', '/h/.cache/huggingface/hub']);
    expect(hubCacheDirectories({ HOME: '/h', XDG_CACHE_HOME: '/h/.cache' })).toEqual([
      '/h/.cache/huggingface/hub',
    ]);
  });
});
