import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startMotoServer } from './moto.js';
import { pythonWith } from './python.js';

describe('startMotoServer', () => {
  const saved = { path: process.env.PATH, command: process.env.SWITCHYARD_MOTO_SERVER };
  const scratch: string[] = [];
  afterEach(() => {
    process.env.PATH = saved.path;
    if (saved.command === undefined) delete process.env.SWITCHYARD_MOTO_SERVER;
    else process.env.SWITCHYARD_MOTO_SERVER = saved.command;
    for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('falls back to a python3 that has moto when moto_server is not on PATH and the system python3 comes first', async () => {
    // The interpreter that has moto, behind a system python3 that (on this image) does not, the way
    // `npx` orders PATH; no moto_server script anywhere on PATH.
    const withMoto = spawnSync(pythonWith('moto.server', "'moto[server]'"), [
      '-c',
      'import sys; print(sys.executable)',
    ])
      .stdout.toString()
      .trim();
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-moto-path-'));
    scratch.push(dir);
    symlinkSync(withMoto, join(dir, 'python3'));
    delete process.env.SWITCHYARD_MOTO_SERVER;
    process.env.PATH = ['/usr/bin', '/bin', dir].join(':');
    const moto = await startMotoServer();
    try {
      const response = await fetch(`${moto.endpoint}/moto-api/`);
      expect(response.status).toBe(200);
    } finally {
      await moto.stop();
    }
  }, 90_000);

  it('names every command it tried and how to install moto when none works', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-moto-none-'));
    scratch.push(dir);
    delete process.env.SWITCHYARD_MOTO_SERVER;
    process.env.PATH = dir;
    await expect(startMotoServer()).rejects.toThrow(
      /cannot start moto \(moto_server: not found; no python3 here can import moto\.server .*\): install moto with `pip install 'moto\[server\]'`/,
    );
  });
});
