import { type RunningProcess, startCli } from '@switchyard/testing/cli';
import { type TinyHubModel, writeTinyHubModel } from '@switchyard/testing/tiny-hub-model';
import { loadTokenizer } from '@switchyard/tokenizer';
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

/** `switchyard serve <hub model> --chat --served-model-name … --api-key …` with a real tokenizer. */
describe('switchyard serve with a real tokenizer, --chat, --served-model-name and --api-key', () => {
  let serving: RunningProcess | undefined;
  let tiny: TinyHubModel | undefined;

  afterAll(async () => {
    await serving?.stop('SIGKILL');
    await tiny?.remove();
  });

  it('serves under the given name behind the key, and renders completions prompts as chat', async () => {
    tiny = await writeTinyHubModel('llama3_1', { seed: 3 });
    const apiKey = 'sk-test-0123456789';
    serving = startCli(
      ['serve', tiny.dir, '--port', '0', '--chat', '--served-model-name', 'tiny-llama', '--api-key', apiKey],
      { env: { SWITCHYARD_SEED: '1' } },
    );
    await serving.waitForLine(/^ {2}experts run /);
    const [, model, url] = /^serving (\S+) on (http:\/\/\S+)/m.exec(serving.stdout)!;
    expect(model).toBe('tiny-llama');
    expect(serving.stdout).toContain(`completions  POST ${url}/v1/completions (prompts rendered as chat)`);
    expect(serving.stdout).toContain(`chat         POST ${url}/v1/chat/completions`);
    const post = (path: string, body: unknown, key = apiKey) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify(body),
      });
    expect((await post('/v1/completions', { prompt: 'Hi' }, 'sk-wrong-0123456789')).status).toBe(401);
    const tokenizer = await loadTokenizer(tiny.dir);
    const chatTokens = tokenizer.encodeChat([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true });
    const response = await post('/v1/completions', {
      model: 'tiny-llama',
      prompt: 'Hi',
      max_tokens: 2,
      temperature: 0,
    });
    expect(response.status).toBe(200);
    const completion = (await response.json()) as { model: string; usage: { prompt_tokens: number } };
    expect(completion.model).toBe('tiny-llama');
    expect(completion.usage.prompt_tokens).toBe(chatTokens.length);
    const tokenized = (await (
      await post('/tokenize', { messages: [{ role: 'user', content: 'Hi' }] })
    ).json()) as {
      tokens: number[];
      max_model_len: number;
    };
    expect(tokenized).toMatchObject({ tokens: chatTokens, max_model_len: 512 });
    expect(await serving.stop('SIGINT')).toBe(0);
  }, 180_000);
});
