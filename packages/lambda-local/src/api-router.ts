import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@switchyard/core';
import type { AliasRegistry } from './aliases.js';
import { parseFunctionName, sendApiError, sendJson } from './api-http.js';
import { LambdaApiError, lambdaApiErrors } from './errors.js';
import type { FunctionRecord } from './function-record.js';
import type { FunctionRegistry } from './function-registry.js';
import type { Invoker } from './invoke.js';
import type { LayerStore } from './layer-store.js';
import type { ProvisionedConcurrency } from './provisioned-concurrency.js';
import { readBody } from './read-body.js';

/** Largest control-plane request body (a CreateFunction with an inline zip): Lambda's 80 MB. */
const maxApiBodyBytes = 80 * 1024 * 1024;

const invocationsPath = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
const functionPath = /^\/2015-03-31\/functions\/([^/]+)(\/configuration|\/code|\/versions|\/aliases)?$/;
const aliasPath = /^\/2015-03-31\/functions\/([^/]+)\/aliases\/([^/]+)$/;
const concurrencyPath = /^\/\d{4}-\d{2}-\d{2}\/functions\/([^/]+)\/concurrency$/;
const provisionedPath = /^\/2019-09-30\/functions\/([^/]+)\/provisioned-concurrency$/;
const layerVersionsPath = /^\/2018-10-31\/layers\/([^/]+)\/versions(?:\/(\d+))?$/;
const tagsPath = /^\/2017-03-31\/tags\/([^/]+)$/;

/** A layer name, or the name inside a layer ARN (`LayerName` accepts both). */
function layerNameOf(segment: string): string {
  const decoded = decodeURIComponent(segment);
  const match = /:layer:([^:]+)$/.exec(decoded);
  return match ? (match[1] as string) : decoded;
}

/** Everything a route handler may need from one request. */
interface RouteContext {
  method: string;
  url: URL;
  json(): Record<string, unknown>;
  response: ServerResponse;
}

/** What the router dispatches to. */
export interface ApiServices {
  registry: FunctionRegistry;
  aliases: AliasRegistry;
  layers: LayerStore;
  provisioned: ProvisionedConcurrency;
  invoker: Invoker;
}

/**
 * The Lambda REST API the SDK uses, routed to the registry (functions, versions, concurrency, tags,
 * account settings), aliases, layers, provisioned concurrency and the invoker. Paths and status codes
 * are the SDK's own operation schemas'. Every failure is answered in AWS's error shape; anything else
 * than a `LambdaApiError` is a 500 `ServiceException`.
 */
export class ApiRouter {
  constructor(
    private readonly services: ApiServices,
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
      await this.services.invoker.invoke(request, response, parseFunctionName(invocation[1] as string));
      return;
    }
    const { body, tooLarge } = await readBody(request, maxApiBodyBytes);
    if (tooLarge) throw lambdaApiErrors.tooLarge(`Request must be smaller than ${maxApiBodyBytes} bytes`);
    const context: RouteContext = {
      method,
      url,
      response,
      json: () => {
        if (body.length === 0) return {};
        try {
          return JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        } catch {
          throw lambdaApiErrors.invalidJson();
        }
      },
    };
    const handled =
      this.functions(path, context) ||
      this.aliases(path, context) ||
      this.concurrency(path, context) ||
      this.layers(path, context) ||
      this.tags(path, context);
    if (!handled) throw lambdaApiErrors.unknownOperation(method, path);
  }

  /** The function (or version) a path segment names, and the qualifier it or `?Qualifier=` gives. */
  private target(segment: string, url: URL): { record: FunctionRecord; qualifier: string | null } {
    const { name, qualifier } = parseFunctionName(segment);
    const record = this.services.registry.get(name);
    return { record, qualifier: url.searchParams.get('Qualifier') ?? qualifier ?? null };
  }

  private functions(path: string, { method, url, json, response }: RouteContext): boolean {
    const { registry } = this.services;
    if (path === '/2015-03-31/functions') {
      if (method === 'POST') return done(response, 201, registry.create(json()));
      if (method === 'GET') return done(response, 200, registry.list(url.searchParams));
    }
    if (path === '/2016-08-19/account-settings' && method === 'GET') {
      return done(response, 200, registry.accountSettings());
    }
    const match = functionPath.exec(path);
    if (!match) return false;
    const { record, qualifier } = this.target(match[1] as string, url);
    const suffix = match[2];
    if (suffix === undefined && method === 'GET')
      return done(response, 200, registry.describe(record, qualifier));
    if (suffix === undefined && method === 'DELETE') {
      registry.delete(record, qualifier);
      return done(response, 204, undefined);
    }
    if (suffix === '/configuration' && method === 'GET') {
      const version = qualifier === null ? undefined : registry.resolveVersion(record, qualifier);
      return done(response, 200, registry.configurationOf(record, version));
    }
    if (suffix === '/configuration' && method === 'PUT') {
      return done(response, 200, registry.updateConfiguration(record, json()));
    }
    if (suffix === '/code' && method === 'PUT')
      return done(response, 200, registry.updateCode(record, json()));
    if (suffix === '/versions' && method === 'POST') {
      return done(response, 201, registry.publishVersion(record, json()));
    }
    if (suffix === '/versions' && method === 'GET') {
      return done(response, 200, registry.listVersions(record, url.searchParams));
    }
    if (suffix === '/aliases' && method === 'POST') {
      return done(response, 201, this.services.aliases.create(record, json()));
    }
    if (suffix === '/aliases' && method === 'GET') {
      return done(response, 200, this.services.aliases.list(record, url.searchParams));
    }
    return false;
  }

  private aliases(path: string, { method, url, json, response }: RouteContext): boolean {
    const match = aliasPath.exec(path);
    if (!match) return false;
    const { aliases } = this.services;
    const { record } = this.target(match[1] as string, url);
    const name = decodeURIComponent(match[2] as string);
    if (method === 'GET') return done(response, 200, aliases.describe(record, aliases.get(record, name)));
    if (method === 'PUT') return done(response, 200, aliases.update(record, name, json()));
    if (method === 'DELETE') {
      aliases.delete(record, name);
      return done(response, 204, undefined);
    }
    return false;
  }

  private concurrency(path: string, { method, url, json, response }: RouteContext): boolean {
    const { registry, provisioned } = this.services;
    const reserved = concurrencyPath.exec(path);
    if (reserved) {
      const { record } = this.target(reserved[1] as string, url);
      if (method === 'PUT') return done(response, 200, registry.putConcurrency(record, json()));
      if (method === 'GET') return done(response, 200, registry.getConcurrency(record));
      if (method === 'DELETE') {
        registry.deleteConcurrency(record);
        return done(response, 204, undefined);
      }
      return false;
    }
    const match = provisionedPath.exec(path);
    if (!match) return false;
    const { record, qualifier } = this.target(match[1] as string, url);
    if (method === 'PUT') return done(response, 202, provisioned.put(record, qualifier, json()));
    if (method === 'GET' && url.searchParams.get('List') === 'ALL') {
      return done(response, 200, provisioned.list(record));
    }
    if (method === 'GET') return done(response, 200, provisioned.get(record, qualifier));
    if (method === 'DELETE') {
      provisioned.delete(record, qualifier);
      return done(response, 204, undefined);
    }
    return false;
  }

  private layers(path: string, { method, url, json, response }: RouteContext): boolean {
    const { layers } = this.services;
    if (path === '/2018-10-31/layers' && method === 'GET') {
      if (url.searchParams.get('find') === 'LayerVersion') {
        const arn = url.searchParams.get('Arn') ?? '';
        return done(response, 200, layers.describe(layers.getByArn(arn)));
      }
      return done(response, 200, layers.listLayers(url.searchParams));
    }
    const match = layerVersionsPath.exec(path);
    if (!match) return false;
    const name = layerNameOf(match[1] as string);
    const version = match[2] === undefined ? undefined : Number(match[2]);
    if (version === undefined && method === 'POST') return done(response, 201, layers.publish(name, json()));
    if (version === undefined && method === 'GET') {
      return done(response, 200, layers.listVersions(name, url.searchParams));
    }
    if (version !== undefined && method === 'GET') {
      return done(response, 200, layers.describe(layers.get(name, version)));
    }
    if (version !== undefined && method === 'DELETE') {
      layers.delete(name, version);
      return done(response, 204, undefined);
    }
    return false;
  }

  private tags(path: string, { method, url, json, response }: RouteContext): boolean {
    const match = tagsPath.exec(path);
    if (!match) return false;
    const { registry } = this.services;
    const record = registry.taggedFunction(decodeURIComponent(match[1] as string));
    if (method === 'GET') return done(response, 200, { Tags: record.tags });
    if (method === 'POST') {
      registry.tag(record, json());
      return done(response, 204, undefined);
    }
    if (method === 'DELETE') {
      registry.untag(record, url.searchParams.getAll('tagKeys'));
      return done(response, 204, undefined);
    }
    return false;
  }
}

/** Sends the answer and reports the request handled. */
function done(response: ServerResponse, status: number, value: unknown): true {
  sendJson(response, status, value);
  return true;
}
