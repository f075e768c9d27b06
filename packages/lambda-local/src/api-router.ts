import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@switchyard/core';
import { parseFunctionName, sendApiError, sendJson } from './api-http.js';
import { LambdaApiError, lambdaApiErrors } from './errors.js';
import type { FunctionRegistry } from './function-registry.js';
import type { Invoker } from './invoke.js';
import { readBody } from './read-body.js';

/** Largest control-plane request body (a CreateFunction with an inline zip): Lambda's 80 MB. */
const maxApiBodyBytes = 80 * 1024 * 1024;

const invocationsPath = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
const functionPath = /^\/2015-03-31\/functions\/([^/]+)(\/configuration|\/code)?$/;
const concurrencyPath = /^\/\d{4}-\d{2}-\d{2}\/functions\/([^/]+)\/concurrency$/;

/**
 * The Lambda REST API subset the SDK uses, routed to the registry and the invoker. Every failure
 * is answered in AWS's error shape; anything else than a `LambdaApiError` is a 500 `ServiceException`.
 */
export class ApiRouter {
  constructor(
    private readonly registry: FunctionRegistry,
    private readonly invoker: Invoker,
    private readonly logger: Logger,
  ) {}

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      await this.route(request, response);
    } catch (error) {
      if (error instanceof LambdaApiError) {
        sendApiError(response, error);
        return;
      }
      this.logger.error('local runtime request failed', { error: String(error), url: request.url });
      sendApiError(response, lambdaApiErrors.service(String(error)));
    }
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const method = request.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '');
    const invocation = invocationsPath.exec(path);
    if (invocation && method === 'POST') {
      await this.invoker.invoke(request, response, parseFunctionName(invocation[1] as string));
      return;
    }
    const { body, tooLarge } = await readBody(request, maxApiBodyBytes);
    if (tooLarge) throw lambdaApiErrors.tooLarge(`Request must be smaller than ${maxApiBodyBytes} bytes`);
    const json = (): Record<string, unknown> => {
      if (body.length === 0) return {};
      try {
        return JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      } catch {
        throw lambdaApiErrors.invalidJson();
      }
    };
    const registry = this.registry;
    if (path === '/2015-03-31/functions') {
      if (method === 'POST') return sendJson(response, 201, registry.create(json()));
      if (method === 'GET') {
        return sendJson(
          response,
          200,
          registry.list(url.searchParams.get('Marker'), url.searchParams.get('MaxItems')),
        );
      }
    }
    if (path === '/2016-08-19/account-settings' && method === 'GET') {
      return sendJson(response, 200, registry.accountSettings());
    }
    const functionMatch = functionPath.exec(path);
    if (functionMatch) {
      const record = registry.get(parseFunctionName(functionMatch[1] as string).name);
      const suffix = functionMatch[2];
      if (!suffix && method === 'GET') return sendJson(response, 200, registry.describe(record));
      if (!suffix && method === 'DELETE') {
        await registry.delete(record);
        return sendJson(response, 204, undefined);
      }
      if (suffix === '/configuration' && method === 'GET') {
        return sendJson(response, 200, registry.configurationOf(record));
      }
      if (suffix === '/configuration' && method === 'PUT') {
        return sendJson(response, 200, registry.updateConfiguration(record, json()));
      }
      if (suffix === '/code' && method === 'PUT')
        return sendJson(response, 200, registry.updateCode(record, json()));
    }
    const concurrency = concurrencyPath.exec(path);
    if (concurrency) {
      const record = registry.get(parseFunctionName(concurrency[1] as string).name);
      if (method === 'PUT') return sendJson(response, 200, registry.putConcurrency(record, json()));
      if (method === 'GET') return sendJson(response, 200, registry.getConcurrency(record));
      if (method === 'DELETE') {
        registry.deleteConcurrency(record);
        return sendJson(response, 204, undefined);
      }
    }
    throw lambdaApiErrors.unknownOperation(method, path);
  }
}
