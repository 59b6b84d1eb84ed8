import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  credentialsFromRequest, isMeterhubError, MeterhubError, requireReadAccess,
  type Credentials, type HostApi,
} from '@meterhub/sdk';

/** Who may scrape: `authenticated` = a user's access token or an API key with `read`; `public` = anyone who reaches the port. */
export type MetricsAccess = 'authenticated' | 'public';

function sendError(res: ServerResponse, err: unknown): void {
  const coded = isMeterhubError(err) ? err : new MeterhubError('METERHUB_ERR_INTERNAL', 'Internal error');
  res.statusCode = coded.status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  if (coded.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="meterhub"');
  res.end(JSON.stringify({ error: { code: coded.code, message: coded.message } }));
}

/**
 * Prometheus sends a scrape credential as `Authorization: Bearer <secret>`
 * (`authorization.credentials_file`). An access token expires in minutes, so a
 * scraper uses an API key: a bearer that is a meterhub API key (`mh_…`) is
 * checked as one.
 */
export function scrapeCredentials(req: IncomingMessage): Credentials {
  const credentials = credentialsFromRequest(req);
  return credentials.bearer?.startsWith('mh_') ? { apiKey: credentials.bearer } : credentials;
}

/**
 * `GET /metrics`: checks access, then renders the exposition from memory.
 * Errors before the body are JSON 4xx like the REST API's.
 */
export function metricsHandler(host: HostApi, access: MetricsAccess, render: () => Promise<{ contentType: string; body: string }>) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== '/' && path !== '') {
      sendError(res, new MeterhubError('METERHUB_ERR_HTTP_NOT_FOUND', 'no such resource; the metrics are at /metrics'));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      res.statusCode = 405;
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ error: { code: 'METERHUB_ERR_VALIDATION', message: 'method not allowed; allowed: GET' } }));
      return;
    }
    void (async () => {
      try {
        if (access === 'authenticated') requireReadAccess(await host.auth.authenticate(scrapeCredentials(req)));
      } catch (err) {
        sendError(res, err);
        return;
      }
      const { contentType, body } = await render();
      res.statusCode = 200;
      res.setHeader('content-type', contentType);
      res.setHeader('cache-control', 'no-store');
      res.setHeader('content-length', Buffer.byteLength(body));
      res.end(req.method === 'HEAD' ? undefined : body);
    })().catch((err: unknown) => {
      host.log.warn({ err: String(err) }, 'rendering /metrics failed');
      if (!res.headersSent) sendError(res, err);
      else res.destroy();
    });
  };
}
