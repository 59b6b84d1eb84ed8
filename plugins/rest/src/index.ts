import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import { definePlugin, type HostApi } from '@meterhub/sdk';
import { apiDocsRouter } from './api-docs.js';
import { bodyParsers } from './body-parsers.js';
import { createAuthenticator, sharedAuthenticator } from './authentication.js';
import { errorHandler } from './http-errors.js';
import { LoginThrottle } from './login-throttle.js';
import { openApiDocument } from './openapi-document.js';
import { openApiSchema } from './response-schemas.js';
import { buildRouter, type RouteSpec } from './route-table.js';
import { accountRoutes, healthRoute } from './routes/admin-routes.js';
import { busRoutes, statusRoute } from './routes/bus-routes.js';
import { meterRoutes } from './routes/meter-routes.js';
import { readingRoutes } from './routes/reading-routes.js';
import { tariffRoutes } from './routes/tariff-routes.js';
import { tokenRoutes } from './routes/token-routes.js';
import { TokenService } from './token-service.js';
import { ScanJobs } from './scan-jobs.js';
import { configSchema } from './config-schema.js';

export { openApiDocument } from './openapi-document.js';

interface RestConfig {
  bodyLimit: string;
  login: { maxPerMinute: number; freeFailures: number };
  health: { publicDetails: boolean };
}

/**
 * The signing key: SECRET_KEY when set; otherwise a random key kept in the
 * plugin's data dir (mode 0600), so tokens survive restarts without anyone
 * choosing a weak secret. Never logged.
 */
async function signingKey(host: HostApi): Promise<string> {
  const configured = host.settings().auth.secretKey;
  if (configured) return configured;
  const file = join(await host.dataDir(), 'secret-key');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const key = randomBytes(48).toString('base64url');
    await writeFile(file, key, { mode: 0o600 });
    host.log.info('SECRET_KEY is not set: generated a signing key in the plugin data dir');
    return key;
  }
}

/**
 * helmet's headers, worked out once: they are the same for every response, so
 * running its chain of 13 middlewares per request is wasted work. The headers
 * set (and removed) are exactly helmet's.
 */
function staticSecurityHeaders(): RequestHandler {
  const headers: Array<[string, string]> = [];
  const removed: string[] = [];
  const recorder = {
    setHeader: (name: string, value: string) => headers.push([name, String(value)]),
    removeHeader: (name: string) => removed.push(name),
  };
  helmet({ contentSecurityPolicy: false })({} as never, recorder as never, () => undefined);
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    for (const name of removed) res.removeHeader(name);
    next();
  };
}

/** All routes of the API, in one table: the router and the OpenAPI document come from it. */
export function allRoutes(host: HostApi, tokens: TokenService, throttle: LoginThrottle, config: Pick<RestConfig, 'health'>, scans = new ScanJobs(host)): RouteSpec[] {
  const routes: RouteSpec[] = [
    ...tokenRoutes(host, tokens, throttle),
    ...meterRoutes(host),
    ...readingRoutes(host),
    ...accountRoutes(host),
    ...tariffRoutes(host),
    healthRoute(host, config.health.publicDetails),
    statusRoute(host),
    ...busRoutes(host, scans),
  ];
  routes.push({
    method: 'get', path: '/api/schema/', tag: 'schema', access: 'public', response: openApiSchema, summary: 'This API as an OpenAPI 3.1 document',
    // The server as this client reaches it (scheme, host and base path through a proxy), so generated clients and /api/docs/ call the right URL.
    handler: ({ req }) => openApiDocument(routes, { title: 'meterhub API', version: host.settings().version }, host.http.described(), host.http.client(req).baseUrl),
  });
  return routes;
}

/**
 * The REST API on the host's HTTP server: the old system's paths, JWT (HS256)
 * for people and API keys for machines, roles and scopes, validation of every
 * body and query against JSON Schemas that also make the OpenAPI document.
 */
export default definePlugin<RestConfig>((host) => ({
  name: 'REST API',
  configSchema,
  async start(config) {
    const settings = host.settings();
    const tokens = new TokenService(await signingKey(host), { accessMinutes: settings.auth.accessTokenLifetimeMinutes, refreshMinutes: settings.auth.refreshTokenLifetimeMinutes });
    const throttle = new LoginThrottle(config.login.maxPerMinute, 60_000, config.login.freeFailures);
    const app = express.Router({ strict: true });
    app.use(staticSecurityHeaders());
    app.use(apiDocsRouter());
    const scans = new ScanJobs(host);
    host.onStop(() => scans.stopAll());
    app.use(buildRouter(allRoutes(host, tokens, throttle, config, scans), createAuthenticator(host.accounts, tokens), bodyParsers(config.bodyLimit)));
    app.use(errorHandler(() => host.settings().debug, host.log, () => host.storage.ping()));
    host.http.mount('/', app as unknown as Parameters<HostApi['http']['mount']>[1]);
    host.auth.provide(sharedAuthenticator(host.accounts, tokens));
  },
}));
