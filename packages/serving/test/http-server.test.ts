import { request as httpRequest } from 'node:http';
import { withServer } from '@switchyard/testing/server';
import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { createBatchScheduler } from '../src/batch-scheduler.js';
import type { Engine } from '../src/engine.js';
import { type RunningServer, startServer } from '../src/http/http-server.js';
import { completionResponseSchema, errorBodySchema } from '../src/http/schemas.js';
import { byteTokenizer } from './byte-tokenizer.js';
import { ToyBackend } from './toy-backend.js';

const tokenizer = await byteTokenizer();

const apiKey = 'test-key-0123456789';

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}`, ...headers },
    body,
  });
}

async function expectError(
  response: Response,
  status: number,
  fields: { type?: string; code?: string; param?: string | null },
) {
  expect(response.status).toBe(status);
  const body = errorBodySchema.parse(await response.json());
  expect(body.error.message.length).toBeGreaterThan(0);
  if (fields.type) expect(body.error.type).toBe(fields.type);
  if (fields.code) expect(body.error.code).toBe(fields.code);
  if (fields.param !== undefined) expect(body.error.param).toBe(fields.param);
  return body;
}

describe('OpenAI-compatible server over the batching engine', () => {
  let backend: ToyBackend;
  let engine: Engine;
  let server: RunningServer;
  let client: OpenAI;

  const served = withServer(async (listen) => {
    backend = new ToyBackend({ stepDelayMs: 2 });
    engine = createBatchScheduler(
      backend,
      { batching: 'continuous', maxBatchSize: 8, seed: 1 },
      { tokenizer },
    );
    server = await startServer(
      { engine },
      {
        ...listen,
        apiKeys: [apiKey],
        maxBodyBytes: 4096,
        maxPromptTokens: 64,
        maxTokens: 64,
        rateLimitBurst: 1000,
      },
    );
    return {
      url: server.url,
      async close() {
        await server.close();
        await engine.close();
      },
    };
  });

  beforeAll(() => {
    client = new OpenAI({ apiKey, baseURL: served.apiUrl, maxRetries: 0 });
  });

  it('answers a completion through the official openai client', async () => {
    const completion = await client.completions.create({
      model: 'toy-alphabet',
      prompt: 'ab',
      max_tokens: 5,
      temperature: 0,
    });
    expect(completionResponseSchema.parse(completion)).toBeTruthy();
    expect(completion.choices[0]!.text).toBe('cdefg');
    expect(completion.choices[0]!.finish_reason).toBe('length');
    expect(completion.usage).toEqual({ prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 });
    expect(completion.model).toBe('toy-alphabet');
  });

  it('streams a completion as server-sent events the openai client reads', async () => {
    const stream = await client.completions.create({
      model: 'toy-alphabet',
      prompt: 'w',
      max_tokens: 6,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    const texts: string[] = [];
    const finishReasons: Array<string | null> = [];
    let usage: unknown;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('text_completion');
      for (const choice of chunk.choices) {
        texts.push(choice.text);
        finishReasons.push(choice.finish_reason);
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(texts.join('')).toBe('xyz abc'.slice(0, 6));
    expect(texts.length).toBeGreaterThan(1);
    expect(finishReasons.at(-1)).toBe('length');
    expect(usage).toEqual({ prompt_tokens: 1, completion_tokens: 6, total_tokens: 7 });
  });

  it('ends the raw stream with data: [DONE] in OpenAI chunk format', async () => {
    const response = await post(
      `${server.url}/v1/completions`,
      JSON.stringify({ prompt: 'a', max_tokens: 3, temperature: 0, stream: true }),
    );
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await response.text();
    const events = text.split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events
      .slice(0, -1)
      .map((event) => completionResponseSchema.parse(JSON.parse(event.replace(/^data: /, ''))));
    expect(chunks.map((chunk) => chunk.choices[0]!.text).join('')).toBe('bcd');
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('length');
  });

  it('stops before a stop sequence and reports finish_reason stop', async () => {
    const completion = await client.completions.create({
      model: 'toy-alphabet',
      prompt: 'a',
      max_tokens: 20,
      temperature: 0,
      stop: ['ef'],
    });
    expect(completion.choices[0]!.text).toBe('bcd');
    expect(completion.choices[0]!.finish_reason).toBe('stop');
  });

  it('samples reproducibly with a seed', async () => {
    const ask = () =>
      client.completions.create({
        model: 'toy-alphabet',
        prompt: 'q',
        max_tokens: 12,
        temperature: 1.5,
        top_p: 0.95,
        seed: 99,
      });
    const [first, second] = await Promise.all([ask(), ask()]);
    expect(first.choices[0]!.text).toBe(second.choices[0]!.text);
  });

  it('advances concurrent requests together in shared decode steps', async () => {
    const before = backend.batchSizes.length;
    await Promise.all(
      Array.from({ length: 6 }, () =>
        client.completions.create({ model: 'toy-alphabet', prompt: 'abc', max_tokens: 10, temperature: 0 }),
      ),
    );
    const sizes = backend.batchSizes.slice(before);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(60);
    expect(backend.live.size).toBe(0);
  });

  it('lists the model, reports health and the deployment', async () => {
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toEqual(['toy-alphabet']);
    const health = await fetch(`${server.url}/healthz`);
    expect(await health.json()).toMatchObject({ status: 'ok', model: 'toy-alphabet' });
    const deployment = await fetch(`${server.url}/v1/deployment`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(await deployment.json()).toEqual({
      object: 'deployment',
      expertPlacement: 'in process (toy)',
      plan: null,
    });
  });

  it('exposes Prometheus metrics with tokens, latency, expert load and cost', async () => {
    const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    for (const name of [
      'switchyard_tokens_per_second',
      'switchyard_request_duration_seconds_bucket{le="+Inf"}',
      'switchyard_billed_gb_seconds_total 0',
      'switchyard_cost_usd_total 0',
      'switchyard_predictor_hit_rate NaN',
      'switchyard_retries_total 0',
    ]) {
      expect(text).toContain(name);
    }
    const completionTokens = Number(/^switchyard_completion_tokens_total (\d+)$/m.exec(text)?.[1]);
    expect(completionTokens).toBeGreaterThanOrEqual(5 + 6 + 3 + 3 + 24 + 60);
    const expertLines = text.split('\n').filter((line) => line.startsWith('switchyard_expert_tokens_total{'));
    expect(expertLines.length).toBe(8);
  });

  describe('bad input gets OpenAI-style errors and the server keeps serving', () => {
    const url = () => `${server.url}/v1/completions`;

    it('400 on malformed JSON', async () => {
      await expectError(await post(url(), '{"prompt": "ab", '), 400, {
        type: 'invalid_request_error',
        code: 'invalid_json',
      });
    });

    it('400 on wrong types, naming the field', async () => {
      await expectError(await post(url(), JSON.stringify({ prompt: 42 })), 400, { param: 'prompt' });
      await expectError(await post(url(), JSON.stringify({ prompt: 'a', max_tokens: 'ten' })), 400, {
        param: 'max_tokens',
      });
      await expectError(await post(url(), JSON.stringify({ prompt: 'a', temperature: 9 })), 400, {
        param: 'temperature',
      });
      await expectError(await post(url(), JSON.stringify({ prompt: 'a', n: 0 })), 400, { param: 'n' });
      await expectError(await post(url(), JSON.stringify({ prompt: 'a', n: 'two' })), 400, { param: 'n' });
      await expectError(await post(url(), JSON.stringify([1, 2])), 400, { type: 'invalid_request_error' });
    });

    it('400 on a prompt longer than the limit, too many max_tokens or the context', async () => {
      await expectError(await post(url(), JSON.stringify({ prompt: 'x'.repeat(65) })), 400, {
        param: 'prompt',
        code: 'prompt_too_long',
      });
      await expectError(await post(url(), JSON.stringify({ prompt: 'x', max_tokens: 65 })), 400, {
        param: 'max_tokens',
      });
      await expectError(await post(url(), JSON.stringify({ prompt: '' })), 400, { param: 'prompt' });
    });

    it('the openai client surfaces the error status', async () => {
      await expect(
        client.completions.create({ model: 'toy-alphabet', prompt: 'x'.repeat(100) }),
      ).rejects.toMatchObject({ status: 400, code: 'prompt_too_long', param: 'prompt' });
      await expect(client.completions.create({ model: 'other-model', prompt: 'x' })).rejects.toMatchObject({
        status: 404,
        code: 'model_not_found',
      });
    });

    it('401 on missing or invalid bearer tokens', async () => {
      const body = JSON.stringify({ prompt: 'ab' });
      const missing = await fetch(url(), {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      });
      await expectError(missing, 401, { type: 'invalid_request_error', code: 'missing_api_key' });
      await expectError(await post(url(), body, { authorization: 'Bearer wrong-key-000000' }), 401, {
        code: 'invalid_api_key',
      });
      await expectError(await post(url(), body, { authorization: 'Basic abc' }), 401, {
        code: 'missing_api_key',
      });
      const wrongClient = new OpenAI({
        apiKey: 'nope-nope-nope',
        baseURL: `${server.url}/v1`,
        maxRetries: 0,
      });
      await expect(
        wrongClient.completions.create({ model: 'toy-alphabet', prompt: 'a' }),
      ).rejects.toMatchObject({ status: 401 });
    });

    it('413 on a body over the size limit', async () => {
      const response = await post(url(), JSON.stringify({ prompt: 'y'.repeat(5000) }));
      await expectError(response, 413, { code: 'request_too_large' });
    });

    it('404 on unknown paths, 405 on wrong methods', async () => {
      await expectError(await fetch(`${server.url}/v2/nothing`), 404, { code: 'not_found' });
      await expectError(await fetch(url(), { headers: { authorization: `Bearer ${apiKey}` } }), 405, {
        code: 'method_not_allowed',
      });
    });

    it('500 when the model fails, without affecting other requests', async () => {
      await expectError(await post(url(), JSON.stringify({ prompt: 'a\u0007b' })), 500, {
        type: 'server_error',
      });
    });

    it('still serves after all of the above', async () => {
      const completion = await client.completions.create({
        model: 'toy-alphabet',
        prompt: 'ab',
        max_tokens: 3,
        temperature: 0,
      });
      expect(completion.choices[0]!.text).toBe('cde');
    });
  });

  it('cancels a streamed completion when the client disconnects', async () => {
    const { port } = server;
    await new Promise<void>((resolve, reject) => {
      const request = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/v1/completions',
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
        },
        (response) => {
          response.once('data', () => {
            request.destroy();
            resolve();
          });
        },
      );
      request.on('error', () => {});
      request.once('error', reject);
      request.end(JSON.stringify({ prompt: 'a', max_tokens: 64, stream: true, temperature: 0 }));
    });
    await expect
      .poll(() => engine.stats().activeSequences + engine.stats().queuedSequences, { timeout: 5000 })
      .toBe(0);
    await expect.poll(() => backend.live.size, { timeout: 5000 }).toBe(0);
  });
});

describe('server limits and lifecycle', () => {
  it('refuses to bind beyond loopback without API keys', async () => {
    const engine = createBatchScheduler(
      new ToyBackend(),
      { batching: 'continuous', maxBatchSize: 4 },
      { tokenizer },
    );
    await expect(startServer({ engine }, { host: '0.0.0.0', port: 0 })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
    });
    await engine.close();
  });

  it('rate limits per key with 429 and Retry-After', async () => {
    const engine = createBatchScheduler(
      new ToyBackend(),
      { batching: 'continuous', maxBatchSize: 4 },
      { tokenizer },
    );
    const server = await startServer(
      { engine },
      { port: 0, apiKeys: [apiKey, 'second-key-000'], rateLimitPerMinute: 60, rateLimitBurst: 2 },
    );
    try {
      const ask = (key: string) =>
        post(`${server.url}/v1/completions`, JSON.stringify({ prompt: 'a', max_tokens: 1 }), {
          authorization: `Bearer ${key}`,
        });
      expect((await ask(apiKey)).status).toBe(200);
      expect((await ask(apiKey)).status).toBe(200);
      const limited = await ask(apiKey);
      await expectError(limited, 429, { type: 'requests', code: 'rate_limit_exceeded' });
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await ask('second-key-000')).status).toBe(200);
    } finally {
      await server.close();
      await engine.close();
    }
  });

  it('times out a slow completion with 504', async () => {
    const engine = createBatchScheduler(
      new ToyBackend({ stepDelayMs: 20 }),
      {
        batching: 'continuous',
        maxBatchSize: 4,
      },
      { tokenizer },
    );
    const server = await startServer({ engine }, { port: 0, requestTimeoutMs: 100, maxTokens: 200 });
    try {
      const response = await fetch(`${server.url}/v1/completions`, {
        method: 'POST',
        body: JSON.stringify({ prompt: 'a', max_tokens: 200 }),
      });
      await expectError(response, 504, { code: 'timeout' });
      await expect.poll(() => engine.stats().activeSequences, { timeout: 5000 }).toBe(0);
    } finally {
      await server.close();
      await engine.close();
    }
  });

  it('drains in-flight requests on shutdown and refuses new ones', async () => {
    const engine = createBatchScheduler(
      new ToyBackend({ stepDelayMs: 5 }),
      {
        batching: 'continuous',
        maxBatchSize: 4,
      },
      { tokenizer },
    );
    const server = await startServer({ engine }, { port: 0, shutdownGraceMs: 10_000 });
    const client = new OpenAI({ apiKey: 'unused', baseURL: `${server.url}/v1`, maxRetries: 0 });
    const inFlight = client.completions.create({
      model: 'toy-alphabet',
      prompt: 'a',
      max_tokens: 40,
      temperature: 0,
    });
    await expect.poll(() => engine.stats().activeSequences, { timeout: 5000 }).toBe(1);
    const closed = server.close();
    const completion = await inFlight;
    expect(completion.choices[0]!.text).toHaveLength(40);
    await closed;
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    await engine.close();
  });
});
