import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '@switchyard/model';
import { createDefaultPlan } from '@switchyard/scatter-gather';
import { withServer } from '@switchyard/testing/server';
import { type TinyHubModel, writeTinyHubModel } from '@switchyard/testing/tiny-hub-model';
import { loadTokenizer, type Tokenizer } from '@switchyard/tokenizer';
import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { type HttpServingStack, serve } from '../src/http/serve.js';

/** log-softmax of one [V] row in float64, at `token`. */
function logSoftmaxAt(row: Float32Array, token: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const value of row) max = Math.max(max, value);
  let sum = 0;
  for (const value of row) sum += Math.exp(value - max);
  return row[token]! - max - Math.log(sum);
}

/**
 * The whole path with a real hub tokenizer: a tiny random Qwen3-MoE checkpoint carrying Qwen3's real
 * tokenizer files and chat template, served with its routed experts on the embedded Lambda runtime
 * (`target: local`, real function processes), asked through the official `openai` client. References come
 * from the same checkpoint loaded in process here: greedy generation over the chat template's tokens, and
 * the log-softmax of the full-sequence logits for the log-probabilities.
 */
describe('a tiny Qwen3-MoE with the real Qwen3 tokenizer, experts on the local Lambda runtime, through the openai client', () => {
  const modelName = 'tiny-qwen3';
  const messages = [
    { role: 'system' as const, content: 'Answer in French. 🇫🇷' },
    { role: 'user' as const, content: 'Où est la gare ? 駅はどこ？' },
  ];
  const scoredPrompt = 'Hello, world! Ça va? 你好 🤗';
  const maxTokens = 6;
  let tiny: TinyHubModel;
  let tokenizer: Tokenizer;
  let stack: HttpServingStack;
  let client: OpenAI;
  let chatPromptTokens: number[];
  let chatReference: number[];
  let scoredPromptTokens: number[];
  let scoredReference: number[];
  /** In-process log-probabilities of every token of prompt + greedy continuation (position 0: none). */
  let scoredLogprobs: number[];
  let scoredLogits: Float32Array;
  let planDir: string;

  const server = withServer(async (listen) => {
    tiny = await writeTinyHubModel('qwen3', { seed: 7 });
    tokenizer = await loadTokenizer(tiny.dir);
    const model = await loadModel(tiny.dir, { name: modelName });
    const eos = [...tiny.eosTokenIds];
    // Greedy references, cut at EOS as the server cuts them (an EOS is not part of the text).
    const greedy = async (prompt: number[]) => {
      const [result] = await model.generate([prompt], {
        maxNewTokens: maxTokens,
        greedy: true,
        stopTokens: eos,
      });
      return result!.tokens.filter((token) => !eos.includes(token));
    };
    chatPromptTokens = tokenizer.encodeChat(messages, { addGenerationPrompt: true });
    chatReference = await greedy(chatPromptTokens);
    if (chatReference.length === 0) throw new Error('the tiny model ends at once: pick another seed');
    scoredPromptTokens = tokenizer.encode(scoredPrompt);
    scoredReference = await greedy(scoredPromptTokens);
    const all = [...scoredPromptTokens, ...scoredReference];
    const sequence = model.createSequence();
    const { logits } = await model.forward([{ sequence, tokens: all }], { logits: 'all' });
    model.releaseSequence(sequence);
    scoredLogits = logits[0]!;
    const vocab = tiny.vocabSize;
    scoredLogprobs = all.map((token, i) =>
      i === 0 ? Number.NaN : logSoftmaxAt(scoredLogits.subarray((i - 1) * vocab, i * vocab), token),
    );
    // Both MoE layers' 4 experts in one function each: 2 cold starts.
    const plan = createDefaultPlan(model.summary, { expertsPerFunction: 4, beta: 16, memoryMB: 1024 });
    await model.close();
    planDir = mkdtempSync(join(tmpdir(), 'switchyard-hub-plan-'));
    writeFileSync(join(planDir, 'plan.json'), JSON.stringify(plan));
    stack = await serve(
      {
        modelDir: tiny.dir,
        target: 'local',
        planPath: join(planDir, 'plan.json'),
        maxBatchSize: 4,
        seed: 1,
        adaptation: { intervalMs: 0, maxReplicas: 1, maxEvaluations: 8 },
      },
      { ...listen, modelName },
    );
    return {
      url: stack.server.url,
      async close() {
        await stack.close();
        await tiny.remove();
        rmSync(planDir, { recursive: true, force: true });
      },
    };
  });

  beforeAll(() => {
    client = new OpenAI({ apiKey: 'unused', baseURL: server.apiUrl, maxRetries: 0 });
  });

  it('serves the checkpoint under its name with its context length, experts on the local runtime', async () => {
    const models = await client.models.list();
    expect(models.data).toEqual([expect.objectContaining({ id: modelName, max_model_len: 512 })]);
    expect(stack.engine.info.expertPlacement).toContain('local Lambda runtime');
  });

  it('answers a chat completion with the greedy continuation of the chat template’s tokens', async () => {
    const completion = await client.chat.completions.create({
      model: modelName,
      messages,
      max_tokens: maxTokens,
      temperature: 0,
    });
    expect(completion.usage!.prompt_tokens).toBe(chatPromptTokens.length);
    expect(completion.usage!.completion_tokens).toBe(
      chatReference.length + (chatReference.length < maxTokens ? 1 : 0),
    );
    expect(completion.choices[0]!.message.content).toBe(
      tokenizer.decode(chatReference, { skipSpecialTokens: true }),
    );
    expect(completion.choices[0]!.finish_reason).toBe(chatReference.length < maxTokens ? 'stop' : 'length');
  }, 300_000);

  it('streams the same chat completion in deltas that concatenate to it, then usage', async () => {
    const stream = await client.chat.completions.create({
      model: modelName,
      messages,
      max_tokens: maxTokens,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let content = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(content).toBe(tokenizer.decode(chatReference, { skipSpecialTokens: true }));
    expect(usage!.prompt_tokens).toBe(chatPromptTokens.length);
  }, 300_000);

  it('scores prompt and completion with echo and logprobs equal to the in-process log-softmax', async () => {
    const completion = await client.completions.create({
      model: modelName,
      prompt: scoredPrompt,
      max_tokens: scoredReference.length,
      temperature: 0,
      echo: true,
      logprobs: 3,
    });
    const choice = completion.choices[0]!;
    const all = [...scoredPromptTokens, ...scoredReference];
    expect(choice.text).toBe(scoredPrompt + tokenizer.decode(scoredReference, { skipSpecialTokens: true }));
    const logprobs = choice.logprobs!;
    expect(logprobs.tokens).toEqual(all.map((token) => tokenizer.tokenText(token)));
    expect(logprobs.token_logprobs![0]).toBeNull();
    for (let i = 1; i < all.length; i++)
      expect(logprobs.token_logprobs![i]).toBeCloseTo(scoredLogprobs[i]!, 3);
    // The most likely token at each position is among the alternatives, with its in-process log-probability.
    const vocab = tiny.vocabSize;
    for (let i = 1; i < all.length; i++) {
      const row = scoredLogits.subarray((i - 1) * vocab, i * vocab);
      let best = 0;
      for (let token = 1; token < vocab; token++) if (row[token]! > row[best]!) best = token;
      const top = logprobs.top_logprobs![i]!;
      expect(top[tokenizer.tokenText(best)]).toBeCloseTo(logSoftmaxAt(row, best), 3);
    }
    // lm-evaluation-harness's log-likelihood request: the prompt alone, nothing generated.
    const scored = await client.completions.create({
      model: modelName,
      prompt: scoredPrompt,
      max_tokens: 0,
      echo: true,
      logprobs: 1,
    });
    const prompt = scored.choices[0]!.logprobs!.token_logprobs!;
    expect(prompt).toHaveLength(scoredPromptTokens.length);
    for (let i = 1; i < prompt.length; i++) expect(prompt[i]).toBeCloseTo(scoredLogprobs[i]!, 3);
    expect(scored.usage).toMatchObject({ prompt_tokens: scoredPromptTokens.length, completion_tokens: 0 });
  }, 300_000);
});
