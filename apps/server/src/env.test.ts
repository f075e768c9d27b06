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
    });
    expect(env.logLevel).toBe('warn');
    const { serving, server } = servingConfiguration(env.settings, { modelDir: '/models/m' });
    expect(server).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      apiKeys: ['key-one-123', 'key-two-456'],
      publicMetrics: true,
    });
    expect(serving).toMatchObject({
      batching: 'sequential',
      maxBatchSize: 4,
      target: 'local',
      adaptation: false,
      predictorTraces: ['a.safetensors', 'b.safetensors'],
    });
  });

  it('names the variable that is wrong', () => {
    expect(() => readServerEnv({ SWITCHYARD_PORT: 'eighty' })).toThrow(/SWITCHYARD_PORT/);
    expect(() => readServerEnv({ SWITCHYARD_TARGET: 'cloud' })).toThrow(/SWITCHYARD_TARGET/);
    expect(() => readServerEnv({ SWITCHYARD_LOG_LEVEL: 'loud' })).toThrow(/SWITCHYARD_LOG_LEVEL/);
  });

  it('finds the bundled model from the app', () => {
    expect(bundledModelDir()).toMatch(/fixtures\/checkpoints\/shakespeare-mixtral-8x2$/);
    expect(() => bundledModelDir('/nowhere/at/all.js')).toThrow(/SWITCHYARD_MODEL_DIR/);
  });
});
