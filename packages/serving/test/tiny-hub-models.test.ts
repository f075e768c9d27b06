import { loadModel } from '@switchyard/model';
import { writeTinyHubModel } from '@switchyard/testing/tiny-hub-model';
import { loadTokenizer } from '@switchyard/tokenizer';
import { describe, expect, it } from 'vitest';
import { startServing } from '../src/start-serving.js';

/**
 * Template → tokens → model → streaming detokenisation through the engine, for the architectures the
 * openai-client test does not serve: a tiny DeepSeek-V3 with DeepSeek-V3's tokenizer and a tiny gpt-oss
 * with o200k_harmony and the harmony template. The engine's streamed text must equal the one-shot decode
 * of the tokens the same checkpoint generates greedily in process, and its token ids those tokens.
 */
describe.each(['deepseek_v3', 'gptoss'] as const)('a tiny %s served in process', (name) => {
  it('streams the greedy continuation of the chat template’s tokens, as the model generates it alone', async () => {
    const tiny = await writeTinyHubModel(name, { seed: 5 });
    try {
      const tokenizer = await loadTokenizer(tiny.dir);
      const messages = [
        { role: 'system', content: 'Réponds en une phrase.' },
        { role: 'user', content: 'What is 2 + 2? 答えて 🙂' },
      ];
      const prompt = tokenizer.encodeChat(messages, { addGenerationPrompt: true });
      const maxTokens = 6;
      const model = await loadModel(tiny.dir);
      let reference: number[];
      try {
        const [result] = await model.generate([prompt], {
          maxNewTokens: maxTokens,
          greedy: true,
          stopTokens: [...tiny.eosTokenIds],
        });
        reference = result!.tokens.filter((token) => !tiny.eosTokenIds.includes(token));
      } finally {
        await model.close();
      }
      expect(reference.length).toBeGreaterThan(0);
      const stack = await startServing({ modelDir: tiny.dir, seed: 1 });
      try {
        expect(stack.engine.info.vocabSize).toBe(tiny.vocabSize);
        const chunks: string[] = [];
        const ids: number[] = [];
        let done: { finishReason: string; promptTokens: number } | undefined;
        for await (const event of stack.engine.complete({
          promptTokens: prompt,
          maxTokens,
          temperature: 0,
          stop: [],
        })) {
          if (event.type === 'text') {
            chunks.push(event.text);
            if (event.token) ids.push(event.token.id);
          } else if (event.type === 'done') done = event;
        }
        expect(ids.filter((id) => !tiny.eosTokenIds.includes(id))).toEqual(reference);
        expect(chunks.join('')).toBe(tokenizer.decode(reference, { skipSpecialTokens: true }));
        expect(done).toMatchObject({
          promptTokens: prompt.length,
          finishReason: reference.length < maxTokens ? 'stop' : 'length',
        });
      } finally {
        await stack.close();
      }
    } finally {
      await tiny.remove();
    }
  }, 240_000);
});
