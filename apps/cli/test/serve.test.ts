import { type RunningProcess, startCli } from '@switchyard/testing/cli';
import { afterAll, describe, expect, it } from 'vitest';

/** `switchyard serve` as a user runs it: prints where it listens, answers completions, Ctrl-C drains. */
describe('switchyard serve', () => {
  let serving: RunningProcess | undefined;

  afterAll(async () => {
    await serving?.stop('SIGKILL');
  });

  it('serves the bundled model on a free port and stops on SIGINT', async () => {
    serving = startCli(['serve', '--port', '0', '--max-batch-size', '4'], { env: { SWITCHYARD_SEED: '1' } });
    // The last line of the banner: every line before it is out.
    await serving.waitForLine(/^ {2}experts run /);
    const [, model, url] = /^serving (\S+) on (http:\/\/\S+)/m.exec(serving.stdout)!;
    expect(model).toBe('shakespeare-mixtral-8x2');
    expect(serving.stdout).toContain(`completions  POST ${url}/v1/completions`);
    expect(serving.stdout).toContain('experts run  in process (onnxruntime); continuous batching');
    const response = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'ROMEO:\n', max_tokens: 8, temperature: 0 }),
    });
    expect(response.status).toBe(200);
    const completion = (await response.json()) as { model: string; usage: { completion_tokens: number } };
    expect(completion.model).toBe('shakespeare-mixtral-8x2');
    expect(completion.usage.completion_tokens).toBe(8);
    expect(await serving.stop('SIGINT')).toBe(0);
    expect(serving.stderr).toMatch(/"msg":"draining in-flight requests"/);
    expect(serving.stderr).not.toMatch(/error/);
  }, 180_000);
});
