import { dashboardHtml } from '../dashboard-page.js';
import type { Route } from '../router.js';
import type { ServerContext } from '../server-context.js';

/** `GET /dashboard`: the live page (it reads `/v1/stats` with the key from its URL fragment). */
export function dashboardRoute(server: ServerContext): Route {
  return {
    method: 'GET',
    open: true,
    run: (exchange) =>
      server.send(exchange, 200, dashboardHtml, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy':
          "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
      }),
  };
}

/** `GET /`: redirects to the dashboard. */
export function rootRoute(server: ServerContext): Route {
  return {
    method: 'GET',
    open: true,
    run: (exchange) => server.send(exchange, 302, '', { location: '/dashboard' }),
  };
}
