import { fileURLToPath } from 'node:url';
import { type RunningProcess, startSource } from '@switchyard/testing/cli';
import { afterAll, describe, expect, it } from 'vitest';

const mainEntry = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/** The app as its users run it: environment variables in, JSON logs out, SIGTERM drains and exits 0. */
describe('node main.ts', () => {
  let app: RunningProcess | undefined;

  afterAll(async () => {
    await app?.stop('SIGKILL');
  });

  it('serves the bundled model on the port the environment gives and stops on SIGTERM', async () => {
    app = startSource(mainEntry, [], {
      env: { SWITCHYARD_PORT: '0', SWITCHYARD_LOG_LEVEL: 'info', SWITCHYARD_SEED: '1' },
    });
    const listening = JSON.parse(await app.waitForLine(/"msg":"listening"/)) as {
      url: string;
      model: string;
    };
    expect(listening.model).toBe('shakespeare-mixtral-8x2');
    const response = await fetch(`${listening.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'ROMEO:\n', max_tokens: 8, temperature: 0 }),
    });
    expect(response.status).toBe(200);
    const completion = (await response.json()) as { choices: { text: string }[]; usage: unknown };
    expect(completion.choices[0]!.text).toHaveLength(8);
    expect(completion.usage).toEqual({ prompt_tokens: 7, completion_tokens: 8, total_tokens: 15 });
    expect(await app.stop('SIGTERM')).toBe(0);
    expect(app.stdout).toMatch(/"msg":"stopped"/);
  });

  it('exits 1 with one line naming a bad variable', async () => {
    const bad = startSource(mainEntry, [], { env: { SWITCHYARD_PORT: 'eighty' } });
    expect(await bad.exited).toBe(1);
    expect(bad.stderr).toMatch(/^error: .*SWITCHYARD_PORT/);
  });
});
