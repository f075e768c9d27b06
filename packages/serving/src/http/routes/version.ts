import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Route } from '../router.js';
import type { ServerContext } from '../server-context.js';

/** @switchyard/serving's version, from its package.json (found by walking up from this file, in src or dist). */
function servingVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === '@switchyard/serving' && manifest.version) return manifest.version;
    } catch {
      // No package.json here: keep walking up.
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

/** `GET /version` (vLLM's): the serving package's version; open, like the health check. */
export function versionRoute(server: ServerContext): Route {
  const version = servingVersion();
  return {
    method: 'GET',
    open: true,
    run: (exchange) => server.send(exchange, 200, { version }),
  };
}
