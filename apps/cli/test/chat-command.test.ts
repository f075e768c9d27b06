import { loadModel } from '@switchyard/model';
import { runCli } from '@switchyard/testing/cli';
import { type TinyHubModel, writeTinyHubModel } from '@switchyard/testing/tiny-hub-model';
import { loadTokenizer, type Tokenizer } from '@switchyard/tokenizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `switchyard chat --message` and `generate --chat` on a tiny random Mixtral carrying Llama 3.1's real
 * tokenizer and chat template: the prompt is the template's rendering encoded once (one BOS), generation
 * stops at generation_config's EOS ids, and the reply is the decoded tokens — the same as the model and
 * tokenizer give in process here.
 */
describe('switchyard chat / generate --chat on a real tokenizer', () => {
  const system = 'Be brief.';
  const message = 'Hi 👋 — où est la gare ?';
  const maxNewTokens = 5;
  let tiny: TinyHubModel;
  let tokenizer: Tokenizer;
  let prompt: number[];
  let reference: { tokens: number[]; finishReason: string };

  beforeAll(async () => {
    tiny = await writeTinyHubModel('llama3_1', { seed: 3 });
    tokenizer = await loadTokenizer(tiny.dir);
    prompt = tokenizer.encodeChat(
      [
        { role: 'system', content: system },
        { role: 'user', content: message },
      ],
      { addGenerationPrompt: true },
    );
    const model = await loadModel(tiny.dir);
    try {
      const [result] = await model.generate([prompt], {
        maxNewTokens,
        greedy: true,
        stopTokens: [...tiny.eosTokenIds],
      });
      reference = { tokens: result!.tokens, finishReason: result!.finishReason };
    } finally {
      await model.close();
    }
  }, 120_000);
  afterAll(() => tiny?.remove());

  it('encodes the rendered chat with exactly one BOS', () => {
    expect(prompt.filter((token) => token === 128_000)).toEqual([128_000]);
    expect(prompt[0]).toBe(128_000);
  });

  it('chat --message answers one turn in the chat format, as in process', async () => {
    const flags = ['--greedy', '--max-new-tokens', String(maxNewTokens), '--json'];
    const [chat, generate] = await Promise.all([
      runCli(['chat', tiny.dir, '--system', system, '--message', message, ...flags], { timeoutMs: 120_000 }),
      runCli(['generate', tiny.dir, '--chat', '--system', system, '--prompt', message, ...flags], {
        timeoutMs: 120_000,
      }),
    ]);
    expect(chat.stderr).toBe('');
    expect(chat.code).toBe(0);
    const reply = JSON.parse(chat.stdout) as Record<string, unknown>;
    expect(reply).toMatchObject({
      tokens: reference.tokens,
      promptTokens: prompt.length,
      finishReason: reference.finishReason,
      reply: tokenizer.decode(reference.tokens, { skipSpecialTokens: true }),
    });
    expect(generate.stderr).toBe('');
    expect(generate.code).toBe(0);
    expect(JSON.parse(generate.stdout)).toMatchObject({
      tokens: reference.tokens,
      promptTokens: prompt.length,
      text: reply.reply,
    });
  }, 240_000);

  it('chat from a pipe answers a line per turn, keeps the history, and /reset starts over', async () => {
    const second = 'And the museum?';
    const flags = ['--greedy', '--max-new-tokens', String(maxNewTokens), '--json', '--system', system];
    const run = await runCli(['chat', tiny.dir, ...flags], {
      input: `${message}\n${second}\n/reset\n${message}\n/exit\nnever read\n`,
      timeoutMs: 120_000,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const replies = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { reply: string; tokens: number[] });
    expect(replies).toHaveLength(3);
    // The first turn and the turn after /reset are the one-shot reply to the same opening.
    expect(replies[0]!.tokens).toEqual(reference.tokens);
    expect(replies[2]!.tokens).toEqual(reference.tokens);
    // The second turn is generated on the whole conversation: the template's rendering of it, in process.
    const model = await loadModel(tiny.dir);
    try {
      const conversation = tokenizer.encodeChat(
        [
          { role: 'system', content: system },
          { role: 'user', content: message },
          { role: 'assistant', content: replies[0]!.reply },
          { role: 'user', content: second },
        ],
        { addGenerationPrompt: true },
      );
      const [result] = await model.generate([conversation], {
        maxNewTokens,
        greedy: true,
        stopTokens: [...tiny.eosTokenIds],
      });
      expect(replies[1]!.tokens).toEqual(result!.tokens);
    } finally {
      await model.close();
    }
  }, 240_000);
});
