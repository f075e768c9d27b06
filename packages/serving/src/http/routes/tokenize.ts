import { HttpError } from '../../errors.js';
import { asRequestError, checkModel, encodeConversation } from '../prompt-checks.js';
import { parseJsonBody, readBody } from '../request-body.js';
import type { Route } from '../router.js';
import type { ServerContext } from '../server-context.js';
import { detokenizeRequestSchema, tokenizeRequestSchema } from '../tokenize-schemas.js';

/**
 * `POST /tokenize` (vLLM's): the token ids a text or a rendered conversation becomes, their count and the
 * model's context length (`max_model_len`).
 */
export function tokenizeRoute(server: ServerContext): Route {
  return {
    method: 'POST',
    async run(exchange, rateKey) {
      const body = parseJsonBody(
        await readBody(exchange.request, server.options.maxBodyBytes),
        tokenizeRequestSchema,
      );
      server.rateLimit(rateKey);
      checkModel(server, body.model);
      const { tokenizer } = server.engine;
      let tokens: number[];
      if ('prompt' in body) {
        tokens = tokenizer.encode(body.prompt, { addSpecialTokens: body.add_special_tokens ?? true });
      } else {
        const conversation = encodeConversation(server, body.messages, {
          addGenerationPrompt: body.add_generation_prompt ?? true,
          tools: body.tools ?? undefined,
          templateVariables: body.chat_template_kwargs ?? undefined,
        });
        tokens = body.add_special_tokens
          ? tokenizer.encode(conversation.text, { addSpecialTokens: true })
          : conversation.tokens;
      }
      server.send(exchange, 200, {
        tokens,
        count: tokens.length,
        max_model_len: server.engine.info.maxContextTokens,
        ...(body.return_token_strs ? { token_strs: tokens.map((id) => tokenizer.tokenText(id)) } : {}),
      });
    },
  };
}

/** `POST /detokenize` (vLLM's): the text token ids stand for. */
export function detokenizeRoute(server: ServerContext): Route {
  return {
    method: 'POST',
    async run(exchange, rateKey) {
      const body = parseJsonBody(
        await readBody(exchange.request, server.options.maxBodyBytes),
        detokenizeRequestSchema,
      );
      server.rateLimit(rateKey);
      checkModel(server, body.model);
      const vocabSize = server.engine.info.vocabSize;
      const bad = body.tokens.findIndex((id) => id >= vocabSize);
      if (bad >= 0) {
        throw new HttpError({
          code: 'INVALID_INPUT',
          message: `Token id ${body.tokens[bad]} is not one of the model's ${vocabSize} tokens.`,
          param: `tokens[${bad}]`,
          apiCode: 'invalid_value',
        });
      }
      let prompt: string;
      try {
        prompt = server.engine.tokenizer.decode(body.tokens);
      } catch (error) {
        throw asRequestError(error, 'tokens');
      }
      server.send(exchange, 200, { prompt });
    },
  };
}
