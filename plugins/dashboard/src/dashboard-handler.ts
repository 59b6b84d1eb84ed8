import type { HttpHandler, RequestClient } from '@meterhub/sdk';
import type { IncomingMessage } from 'node:http';
import { pickEncoding, type Asset } from './asset-store.js';

/**
 * The page may load only its own scripts and styles and talk only to this host
 * (REST over fetch, the live stream over a WebSocket to the same host, named
 * explicitly since older browsers do not count ws: as 'self'). uPlot and Preact
 * set styles through the CSSOM, which `style-src 'self'` allows.
 */
function contentSecurityPolicy(host: string | undefined): string {
  const sameHost = host && /^[A-Za-z0-9.:[\]-]+$/.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    `connect-src 'self'${sameHost}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; ');
}

export interface SetupProbe {
  /** True while no user account exists: the sign-in page then says how to create the first admin. */
  needsFirstAdmin(): Promise<boolean>;
  /** The client as the host resolved it: the host it addressed names the live stream's origin (through a proxy too). */
  client(req: IncomingMessage): RequestClient;
}

/**
 * Serves the built dashboard at `/` and `/assets/…`, and `/dashboard/setup.json`
 * (below the host's base path, which the page's relative URLs follow).
 * Anything else falls through to the host's other routes and its JSON 404, so
 * API clients never get HTML by mistake.
 */
export function dashboardHandler(assets: ReadonlyMap<string, Asset>, setup: SetupProbe): HttpHandler {
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      next();
      return;
    }
    const path = (req.url ?? '/').split('?', 1)[0]!;
    if (path === '/dashboard/setup.json') {
      setup.needsFirstAdmin().then(
        (needsFirstAdmin) => {
          res.setHeader('content-type', 'application/json');
          res.setHeader('cache-control', 'no-store');
          res.end(JSON.stringify({ needsFirstAdmin, command: 'meterhub user add NAME --role admin' }));
        },
        (err: unknown) => next(err),
      );
      return;
    }
    const asset = assets.get(path === '/index.html' ? '/' : path);
    if (!asset) {
      next();
      return;
    }
    res.setHeader('content-type', asset.type);
    res.setHeader('vary', 'Accept-Encoding');
    res.setHeader('etag', asset.etag);
    res.setHeader('x-content-type-options', 'nosniff');
    // index.html names the hashed files of the current build, so it is revalidated every time.
    res.setHeader('cache-control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (!asset.immutable) {
      res.setHeader('content-security-policy', contentSecurityPolicy(setup.client(req).host));
      res.setHeader('referrer-policy', 'no-referrer');
      res.setHeader('x-frame-options', 'DENY');
    }
    if (req.headers['if-none-match'] === asset.etag) {
      res.statusCode = 304;
      res.end();
      return;
    }
    const { body, encoding } = pickEncoding(asset, req.headers['accept-encoding'] as string | undefined);
    if (encoding) res.setHeader('content-encoding', encoding);
    res.setHeader('content-length', String(body.length));
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
