import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { servingConfiguration } from '@switchyard/serving/http';
import { describe, expect, it } from 'vitest';
import { bundledModelDir, readServerEnv } from './env.js';

describe('readServerEnv', () => {
  it('leaves unset variables to the options defaults', () => {
    const env = readServerEnv({});
    expect(env.logLevel).toBe('info');
    const { serving, server } = servingConfiguration(env.settings, { modelDir: '/models/m' });
    expect(serving).toMatchObject({ modelDir: '/models/m', target: undefined, batching: undefined });
    expect(Object.values(server).every((value) => value === undefined)).toBe(true);
  });

  it('reads every serving and server variable', () => {
    const env = readServerEnv({
      SWITCHYARD_HOST: '0.0.0.0',
      SWITCHYARD_PORT: '9000',
      SWITCHYARD_API_KEYS: 'key-one-123, key-two-456,',
      SWITCHYARD_PUBLIC_METRICS: 'yes',
      SWITCHYARD_BATCHING: 'sequential',
      SWITCHYARD_MAX_BATCH_SIZE: '4',
      SWITCHYARD_TARGET: 'local',
      SWITCHYARD_REPLAN_INTERVAL_MS: '0',
      SWITCHYARD_PREDICTOR_TRACES: 'a.safetensors,b.safetensors',
      SWITCHYARD_LOG_LEVEL: 'warn',
      SWITCHYARD_CHAT: 'true',
      SWITCHYARD_MODEL_NAME: 'served-name',
    });
    expect(env.logLevel).toBe('warn');
    const { serving, server } = servingConfiguration(env.settings, { modelDir: '/models/m' });
    expect(server).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      apiKeys: ['key-one-123', 'key-two-456'],
      publicMetrics: true,
      chat: true,
      modelName: 'served-name',
    });
    expect(serving).toMatchObject({
      batching: 'sequential',
      maxBatchSize: 4,
      target: 'local',
      adaptation: false,
      predictorTraces: ['a.safetensors', 'b.safetensors'],
    });
  });

  it('takes SWITCHYARD_MODEL_DIR as a directory or a hub id in the local Hugging Face cache, served under its name', () => {
    const cache = mkdtempSync(join(tmpdir(), 'switchyard-hub-cache-'));
    const repo = join(cache, 'models--acme--tiny-moe');
    mkdirSync(join(repo, 'refs'), { recursive: true });
    mkdirSync(join(repo, 'snapshots', 'abc123'), { recursive: true });
    writeFileSync(join(repo, 'refs', 'main'), 'abc123');
    const hub = readServerEnv({ SWITCHYARD_MODEL_DIR: 'acme/tiny-moe', HF_HUB_CACHE: cache });
    expect(hub.settings.modelDir).toBe(join(repo, 'snapshots', 'abc123'));
    expect(hub.settings.modelName).toBe('acme/tiny-moe');
    const named = readServerEnv({
      SWITCHYARD_MODEL_DIR: 'acme/tiny-moe',
      SWITCHYARD_MODEL_NAME: 'tiny',
      HF_HUB_CACHE: cache,
    });
    expect(named.settings.modelName).toBe('tiny');
    const directory = readServerEnv({ SWITCHYARD_MODEL_DIR: cache });
    expect(directory.settings).toMatchObject({ modelDir: cache, modelName: undefined });
    expect(() => readServerEnv({ SWITCHYARD_MODEL_DIR: 'acme/missing', HF_HUB_CACHE: cache })).toThrow(
      /acme\/missing/,
    );
  });

  it('names the variable that is wrong', () => {
    expect(() => readServerEnv({ SWITCHYARD_PORT: 'eighty' })).toThrow(/SWITCHYARD_PORT/);
    expect(() => readServerEnv({ SWITCHYARD_CHAT: 'maybe' })).toThrow(/SWITCHYARD_CHAT/);
    expect(() => readServerEnv({ SWITCHYARD_TARGET: 'cloud' })).toThrow(/SWITCHYARD_TARGET/);
    expect(() => readServerEnv({ SWITCHYARD_LOG_LEVEL: 'loud' })).toThrow(/SWITCHYARD_LOG_LEVEL/);
  });

  it('finds the bundled model from the app', () => {
    expect(bundledModelDir()).toMatch(/fixtures\/checkpoints\/shakespeare-mixtral-8x2$/);
    expect(() => bundledModelDir('/nowhere/at/all.js')).toThrow(/SWITCHYARD_MODEL_DIR/);
  });
});
