import { withServer } from '@switchyard/testing/server';
import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { createBatchScheduler } from '../src/batch-scheduler.js';
import type { Engine } from '../src/engine.js';
import { chatCompletionChunkSchema, chatCompletionResponseSchema } from '../src/http/chat-schemas.js';
import { type RunningServer, startServer } from '../src/http/http-server.js';
import { completionResponseSchema, errorBodySchema } from '../src/http/schemas.js';
import { detokenizeResponseSchema, tokenizeResponseSchema } from '../src/http/tokenize-schemas.js';
import { byteTokenizer } from './byte-tokenizer.js';
import { ToyBackend, toyLogits } from './toy-backend.js';

const apiKey = 'api-test-key-0123456789';
const model = 'toy-alphabet';

/** Concatenates message contents; a system message anywhere but first makes the template raise. */
const chatTemplate = [
  '{%- for message in messages %}',
  "{%- if message.role == 'system' and not loop.first %}{{ raise_exception('a system message must come first') }}{%- endif %}",
  '{{- message.content }}',
  '{%- endfor %}',
].join('');

/** The toy model's log-probability of `token` after `last`, from its logits (computed here, in float64). */
function toyLogprob(last: number, token: number): number {
  const row = toyLogits(last);
  let sum = 0;
  for (const value of row) sum += Math.exp(value);
  return row[token]! - Math.log(sum);
}

async function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(body),
  });
}

async function expectError(
  response: Response,
  status: number,
  fields: { code?: string; param?: string | null },
) {
  expect(response.status).toBe(status);
  const body = errorBodySchema.parse(await response.json());
  expect(body.error.message.length).toBeGreaterThan(0);
  if (fields.code) expect(body.error.code).toBe(fields.code);
  if (fields.param !== undefined) expect(body.error.param).toBe(fields.param);
  return body.error;
}

/**
 * The OpenAI/vLLM API over the toy alphabet engine (greedy continues the alphabet; logits known in
 * closed form) with the byte-level tokenizer and a small chat template: chat completions, prompt lists,
 * token-id prompts, n, logprobs, echo, stop token ids, /tokenize, /detokenize, /health, /version.
 */
describe('the OpenAI-compatible API', () => {
  let engine: Engine;
  let server: RunningServer;
  let client: OpenAI;
  let chatServer: RunningServer;

  const served = withServer(async (listen) => {
    const tokenizer = await byteTokenizer({ chatTemplate });
    engine = createBatchScheduler(new ToyBackend(), { maxBatchSize: 8, seed: 1 }, { tokenizer });
    const limits = { apiKeys: [apiKey], maxPromptTokens: 200, maxTokens: 64, rateLimitBurst: 1000 };
    server = await startServer({ engine }, { ...listen, ...limits });
    chatServer = await startServer({ engine }, { ...listen, ...limits, chat: true });
    return {
      url: server.url,
      async close() {
        await chatServer.close();
        await server.close();
        await engine.close();
      },
    };
  });

  beforeAll(() => {
    client = new OpenAI({ apiKey, baseURL: served.apiUrl, maxRetries: 0 });
  });

  it('answers a chat completion through the openai client', async () => {
    const completion = await client.chat.completions.create({
      model,
      messages: [
        { role: 'system', content: 'a' },
        { role: 'user', content: 'b' },
      ],
      max_completion_tokens: 5,
      temperature: 0,
    });
    chatCompletionResponseSchema.parse(completion);
    expect(completion.object).toBe('chat.completion');
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.choices).toEqual([
      { index: 0, message: { role: 'assistant', content: 'cdefg' }, logprobs: null, finish_reason: 'length' },
    ]);
    expect(completion.usage).toEqual({ prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 });
  });

  it('streams a chat completion: the role first, content deltas, the finish reason, then usage', async () => {
    const stream = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'w' }],
      max_tokens: 6,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chatCompletionChunkSchema.parse(chunk));
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    const content = chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.delta.content ?? ''));
    expect(content.join('')).toBe('xyz abc'.slice(0, 6));
    expect(content.filter((text) => text !== '').length).toBeGreaterThan(1);
    const finishes = chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.finish_reason));
    expect(finishes.filter((reason) => reason !== null)).toEqual(['length']);
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage).toEqual({ prompt_tokens: 1, completion_tokens: 6, total_tokens: 7 });
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
  });

  it('gives chat logprobs with top alternatives, equal to the log-softmax of the logits', async () => {
    const completion = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'ab' }],
      max_tokens: 3,
      temperature: 0,
      logprobs: true,
      top_logprobs: 2,
    });
    const content = completion.choices[0]!.logprobs!.content!;
    expect(content.map((entry) => entry.token)).toEqual(['c', 'd', 'e']);
    content.forEach((entry, i) => {
      const last = 98 + i;
      expect(entry.logprob).toBeCloseTo(toyLogprob(last, last + 1), 5);
      expect(entry.bytes).toEqual([last + 1]);
      expect(entry.top_logprobs).toHaveLength(2);
      expect(entry.top_logprobs[0]!.token).toBe(entry.token);
      // The runner-up: the largest of the toy's background logits, ((id × 37) mod 11) / 10, lowest id first.
      const row = toyLogits(last);
      row[last + 1] = Number.NEGATIVE_INFINITY;
      const second = row.indexOf(Math.max(...row));
      expect(entry.top_logprobs[1]!.logprob).toBeCloseTo(toyLogprob(last, second), 5);
    });
  });

  it('answers n choices for every prompt of a list, indexed prompt × n + choice, usage counting each prompt once', async () => {
    const completion = await client.completions.create({
      model,
      prompt: ['ab', 'x'],
      n: 2,
      max_tokens: 3,
      temperature: 0,
    });
    completionResponseSchema.parse(completion);
    expect(completion.choices.map((choice) => [choice.index, choice.text])).toEqual([
      [0, 'cde'],
      [1, 'cde'],
      [2, 'yz '],
      [3, 'yz '],
    ]);
    expect(completion.usage).toEqual({ prompt_tokens: 3, completion_tokens: 12, total_tokens: 15 });
    const sampled = await client.completions.create({
      model,
      prompt: 'q',
      n: 3,
      max_tokens: 8,
      temperature: 2,
      seed: 5,
    });
    const again = await client.completions.create({
      model,
      prompt: 'q',
      n: 3,
      max_tokens: 8,
      temperature: 2,
      seed: 5,
    });
    expect(again.choices.map((choice) => choice.text)).toEqual(sampled.choices.map((choice) => choice.text));
    // Each choice samples from its own stream.
    expect(new Set(sampled.choices.map((choice) => choice.text)).size).toBeGreaterThan(1);
  });

  it('takes token-id prompts and lists of them', async () => {
    const single = await client.completions.create({
      model,
      prompt: [97, 98],
      max_tokens: 2,
      temperature: 0,
    });
    expect(single.choices[0]!.text).toBe('cd');
    const several = await client.completions.create({
      model,
      prompt: [[97], [120, 121]],
      max_tokens: 2,
      temperature: 0,
    });
    expect(several.choices.map((choice) => choice.text)).toEqual(['bc', 'z ']);
  });

  it('scores a prompt as lm-evaluation-harness does: max_tokens 0, echo, logprobs', async () => {
    const scored = await client.completions.create({
      model,
      prompt: [97, 98, 99, 120],
      max_tokens: 0,
      echo: true,
      logprobs: 1,
      temperature: 0,
    });
    const choice = scored.choices[0]!;
    expect(choice.text).toBe('abcx');
    expect(scored.usage).toEqual({ prompt_tokens: 4, completion_tokens: 0, total_tokens: 4 });
    const logprobs = choice.logprobs!;
    expect(logprobs.tokens).toEqual(['a', 'b', 'c', 'x']);
    expect(logprobs.text_offset).toEqual([0, 1, 2, 3]);
    expect(logprobs.token_logprobs![0]).toBeNull();
    expect(logprobs.top_logprobs![0]).toBeNull();
    expect(logprobs.token_logprobs![1]).toBeCloseTo(toyLogprob(97, 98), 5);
    expect(logprobs.token_logprobs![3]).toBeCloseTo(toyLogprob(99, 120), 5);
    // Greedy would have said 'd' after 'c': the top alternative, beside the prompt's own 'x'.
    expect(Object.keys(logprobs.top_logprobs![3]!)).toEqual(['d', 'x']);
  });

  it('echoes the prompt before the completion, with logprobs over both and offsets into the text', async () => {
    const completion = await client.completions.create({
      model,
      prompt: 'ab',
      max_tokens: 2,
      echo: true,
      logprobs: 0,
      temperature: 0,
    });
    const choice = completion.choices[0]!;
    expect(choice.text).toBe('abcd');
    expect(choice.logprobs!.tokens).toEqual(['a', 'b', 'c', 'd']);
    expect(choice.logprobs!.text_offset).toEqual([0, 1, 2, 3]);
    expect(choice.logprobs!.token_logprobs![2]).toBeCloseTo(toyLogprob(98, 99), 5);
    expect(choice.logprobs!.top_logprobs![2]).toEqual({ c: choice.logprobs!.token_logprobs![2] });
    const streamed = await client.completions.create({
      model,
      prompt: 'ab',
      max_tokens: 2,
      echo: true,
      logprobs: 0,
      temperature: 0,
      stream: true,
    });
    let text = '';
    const tokens: string[] = [];
    for await (const chunk of streamed) {
      text += chunk.choices[0]?.text ?? '';
      tokens.push(...(chunk.choices[0]?.logprobs?.tokens ?? []));
    }
    expect(text).toBe('abcd');
    expect(tokens).toEqual(['a', 'b', 'c', 'd']);
  });

  it('ends at a stop token id without returning its text', async () => {
    const completion = await client.completions.create({
      model,
      prompt: 'ab',
      max_tokens: 10,
      temperature: 0,
      // @ts-expect-error vLLM's extension, not in the openai client's types
      stop_token_ids: [101],
    });
    expect(completion.choices[0]).toMatchObject({ text: 'cd', finish_reason: 'stop' });
    expect(completion.usage!.completion_tokens).toBe(3);
  });

  it('a chat server renders completions prompts with the chat template', async () => {
    const chatClient = new OpenAI({ apiKey, baseURL: `${chatServer.url}/v1`, maxRetries: 0 });
    const completion = await chatClient.completions.create({
      model,
      prompt: 'ab',
      max_tokens: 3,
      temperature: 0,
      echo: true,
    });
    expect(completion.choices[0]!.text).toBe('abcde');
    // Token prompts pass through untouched.
    const tokens = await chatClient.completions.create({
      model,
      prompt: [120],
      max_tokens: 1,
      temperature: 0,
    });
    expect(tokens.choices[0]!.text).toBe('y');
  });

  it('tokenizes text and conversations, and detokenizes', async () => {
    const text = tokenizeResponseSchema.parse(
      await (await post(`${server.url}/tokenize`, { prompt: 'hé' })).json(),
    );
    expect(text).toEqual({ tokens: [104, 195, 169], count: 3, max_model_len: 256 });
    const chat = tokenizeResponseSchema.parse(
      await (
        await post(`${server.url}/tokenize`, {
          model,
          messages: [
            { role: 'user', content: 'a' },
            { role: 'assistant', content: 'b' },
          ],
          return_token_strs: true,
        })
      ).json(),
    );
    expect(chat).toEqual({ tokens: [97, 98], count: 2, max_model_len: 256, token_strs: ['a', 'b'] });
    const decoded = detokenizeResponseSchema.parse(
      await (await post(`${server.url}/detokenize`, { model, tokens: [104, 195, 169] })).json(),
    );
    expect(decoded).toEqual({ prompt: 'hé' });
  });

  it('reports health, version and the model with its max_model_len', async () => {
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', model });
    const version = (await (await fetch(`${server.url}/version`)).json()) as { version: string };
    expect(version.version).toMatch(/^\d+\.\d+\.\d+/);
    const models = await client.models.list();
    expect(models.data).toEqual([expect.objectContaining({ id: model, max_model_len: 256 })]);
  });

  describe('every new field refuses bad input with an OpenAI-style error, and the server keeps serving', () => {
    const completions = () => `${server.url}/v1/completions`;
    const chat = () => `${server.url}/v1/chat/completions`;
    const user = [{ role: 'user', content: 'ab' }];

    it('completions: prompt forms, n, logprobs, echo, max_tokens 0, top_k, repetition_penalty, stop_token_ids', async () => {
      for (const prompt of [42, [], [1.5], [[97], 'a'], [['a']]])
        await expectError(await post(completions(), { prompt }), 400, { param: 'prompt' });
      // Where the form is clear the first bad element is named.
      for (const prompt of [[-1], [[]]])
        await expectError(await post(completions(), { prompt }), 400, { param: 'prompt.0' });
      await expectError(await post(completions(), { prompt: [97, 256] }), 400, { param: 'prompt' });
      await expectError(await post(completions(), { prompt: [[97], [300]] }), 400, { param: 'prompt[1]' });
      for (const n of [0, 17, 'two', 1.5])
        await expectError(await post(completions(), { prompt: 'a', n }), 400, { param: 'n' });
      await expectError(await post(completions(), { prompt: Array(9).fill('a'), n: 8 }), 400, { param: 'n' });
      for (const logprobs of [-1, 21, 'yes', true])
        await expectError(await post(completions(), { prompt: 'a', logprobs }), 400, { param: 'logprobs' });
      await expectError(await post(completions(), { prompt: 'a', echo: 'yes' }), 400, { param: 'echo' });
      await expectError(await post(completions(), { prompt: 'a', max_tokens: 0 }), 400, {
        param: 'max_tokens',
      });
      await expectError(await post(completions(), { prompt: 'a', max_tokens: -1 }), 400, {
        param: 'max_tokens',
      });
      await expectError(await post(completions(), { prompt: 'a', top_k: -2 }), 400, { param: 'top_k' });
      for (const repetition_penalty of [0, 3, 'x'])
        await expectError(await post(completions(), { prompt: 'a', repetition_penalty }), 400, {
          param: 'repetition_penalty',
        });
      await expectError(await post(completions(), { prompt: 'a', stop_token_ids: [-1] }), 400, {
        param: 'stop_token_ids.0',
      });
      await expectError(await post(completions(), { prompt: 'a', skip_special_tokens: 'no' }), 400, {
        param: 'skip_special_tokens',
      });
      await expectError(
        await post(completions(), { prompt: 'a', stream_options: { include_usage: true } }),
        400,
        {
          param: 'stream_options',
        },
      );
      await expectError(await post(completions(), { prompt: 'a', model: 'other' }), 404, {
        code: 'model_not_found',
        param: 'model',
      });
    });

    it('a prompt over max_model_len is a 400 naming both lengths', async () => {
      const error = await expectError(await post(completions(), { prompt: Array(257).fill(97) }), 400, {
        code: 'context_length_exceeded',
        param: 'prompt',
      });
      expect(error.message).toMatch(/256 tokens.*257 tokens/);
      const chatError = await expectError(
        await post(chat(), { messages: [{ role: 'user', content: 'x'.repeat(257) }] }),
        400,
        { code: 'context_length_exceeded', param: 'messages' },
      );
      expect(chatError.message).toMatch(/256 tokens.*257 tokens/);
      // 200 prompt tokens (the server's maxPromptTokens) + 60 to generate > 256.
      await expectError(await post(completions(), { prompt: 'x'.repeat(200), max_tokens: 60 }), 400, {
        code: 'context_length_exceeded',
        param: 'max_tokens',
      });
    });

    it('chat: messages, roles, content, token limits, logprobs, tools, response_format, template kwargs', async () => {
      await expectError(await post(chat(), {}), 400, { param: 'messages' });
      await expectError(await post(chat(), { messages: [] }), 400, { param: 'messages' });
      await expectError(await post(chat(), { messages: 'hi' }), 400, { param: 'messages' });
      await expectError(await post(chat(), { messages: [{ role: 'wizard', content: 'x' }] }), 400, {
        param: 'messages[0].role',
      });
      await expectError(await post(chat(), { messages: [{ role: 'user', content: 42 }] }), 400, {
        param: 'messages[0].content',
      });
      await expectError(await post(chat(), { messages: user, max_completion_tokens: 0 }), 400, {
        param: 'max_completion_tokens',
      });
      await expectError(await post(chat(), { messages: user, max_completion_tokens: 65 }), 400, {
        param: 'max_completion_tokens',
      });
      await expectError(await post(chat(), { messages: user, max_tokens: 'ten' }), 400, {
        param: 'max_tokens',
      });
      await expectError(await post(chat(), { messages: user, logprobs: 'yes' }), 400, { param: 'logprobs' });
      await expectError(await post(chat(), { messages: user, top_logprobs: 2 }), 400, {
        param: 'top_logprobs',
      });
      await expectError(await post(chat(), { messages: user, logprobs: true, top_logprobs: 21 }), 400, {
        param: 'top_logprobs',
      });
      await expectError(await post(chat(), { messages: user, n: 0 }), 400, { param: 'n' });
      await expectError(await post(chat(), { messages: user, tools: 'none' }), 400, { param: 'tools' });
      await expectError(await post(chat(), { messages: user, tool_choice: 'required' }), 400, {
        param: 'tool_choice',
      });
      await expectError(
        await post(chat(), { messages: user, response_format: { type: 'json_object' } }),
        400,
        {
          param: 'response_format.type',
        },
      );
      await expectError(await post(chat(), { messages: user, chat_template_kwargs: 'x' }), 400, {
        param: 'chat_template_kwargs',
      });
      await expectError(await post(chat(), { messages: user, model: 'other' }), 404, {
        code: 'model_not_found',
      });
    });

    it("the chat template's raise_exception is a 400 on the messages", async () => {
      const error = await expectError(
        await post(chat(), {
          messages: [
            { role: 'user', content: 'a' },
            { role: 'system', content: 'b' },
          ],
        }),
        400,
        { param: 'messages', code: 'invalid_chat_request' },
      );
      expect(error.message).toContain('a system message must come first');
    });

    it('tokenize and detokenize', async () => {
      await expectError(await post(`${server.url}/tokenize`, {}), 400, {});
      await expectError(await post(`${server.url}/tokenize`, { prompt: 42 }), 400, {});
      await expectError(
        await post(`${server.url}/tokenize`, { messages: [{ role: 'nobody', content: 'x' }] }),
        400,
        {
          param: 'messages[0].role',
        },
      );
      await expectError(await post(`${server.url}/tokenize`, { prompt: 'a', model: 'other' }), 404, {
        code: 'model_not_found',
      });
      await expectError(await post(`${server.url}/detokenize`, { tokens: 'abc' }), 400, { param: 'tokens' });
      await expectError(await post(`${server.url}/detokenize`, { tokens: [-1] }), 400, { param: 'tokens.0' });
      await expectError(await post(`${server.url}/detokenize`, { tokens: [97, 256] }), 400, {
        param: 'tokens[1]',
      });
      await expectError(await post(`${server.url}/detokenize`, { tokens: [1], model: 'other' }), 404, {
        code: 'model_not_found',
      });
    });

    it('still serves after all of the above', async () => {
      const completion = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'ab' }],
        max_tokens: 3,
        temperature: 0,
      });
      expect(completion.choices[0]!.message.content).toBe('cde');
    });
  });
});

describe('a model without a chat template', () => {
  it('answers chat completions with 400 and cannot be served as a chat server', async () => {
    const tokenizer = await byteTokenizer();
    const engine = createBatchScheduler(new ToyBackend(), { maxBatchSize: 2 }, { tokenizer });
    await expect(startServer({ engine }, { port: 0, chat: true })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      message: expect.stringContaining('chat template'),
    });
    const server = await startServer({ engine }, { port: 0 });
    try {
      const response = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ messages: [{ role: 'user', content: 'a' }] }),
      });
      const error = await expectError(response, 400, { param: 'messages' });
      expect(error.message).toMatch(/no chat template/);
      expect(error.message).not.toContain('/');
    } finally {
      await server.close();
      await engine.close();
    }
  });
});
