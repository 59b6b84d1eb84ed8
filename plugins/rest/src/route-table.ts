import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { MeterhubError, type RequestClient } from '@meterhub/sdk';
import type { Access, AuthedRequest, Principal } from './authentication.js';
import { validate } from './request-validation.js';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteContext<B = unknown, Q = unknown> {
  req: Request;
  res: Response;
  params: Record<string, string>;
  body: B;
  query: Q;
  principal: Principal | undefined;
  /** Answers with this status instead of the route's (e.g. 503 from /health/). */
  setStatus(status: number): void;
}

/**
 * One endpoint, as data: the router is built from these, and so is the
 * OpenAPI document, so what is validated and what is documented never drift.
 */
export interface RouteSpec {
  method: Method;
  /** Express path; `:id` parameters. Trailing slashes as the old system had them. */
  path: string;
  tag: string;
  summary: string;
  access: Access;
  body?: object;
  /**
   * The body as the OpenAPI document shows it, where the handler validates
   * parts of `body` on its own (each group of a bulk submission, so one bad
   * group does not refuse the others); default `body`.
   */
  documentedBody?: object;
  query?: object;
  /** Status of a successful answer (default 200; a handler returning undefined answers 204). */
  status?: number;
  /** JSON Schema of the successful answer, for the OpenAPI document (and the test hook that checks every answer against it). */
  response?: object;
  /** Error statuses beyond those every route documents (400, 401/403, 404 with a path id, 405, 413/415 with a body, 503): 404, 409, 429. */
  errors?: Array<404 | 409 | 429>;
  /** Other statuses the handler answers with a body of its own (via setStatus), e.g. /health/'s 503, with their schema. */
  alsoAnswers?: Record<number, object>;
  /**
   * The body may also come form-encoded or as multipart form fields (what
   * DRF accepts on every view; the old frontend's login form sends them).
   */
  forms?: boolean;
  handler(ctx: RouteContext<any, any>): Promise<unknown> | unknown;
}

/** How bodies are read: JSON everywhere, form fields where a route takes them (`forms`). */
export interface BodyParsers {
  json: RequestHandler;
  forms: readonly RequestHandler[];
}

/**
 * Only the query parameters a route knows are validated and handed on:
 * others (`?format=json`, a cache-buster `?_=123`) are ignored, as DRF does.
 */
function knownQuery(schema: object, query: Record<string, unknown>): Record<string, unknown> {
  const known = (schema as { properties?: Record<string, unknown> }).properties ?? {};
  return Object.fromEntries(Object.entries(query).filter(([k]) => Object.hasOwn(known, k)));
}

/**
 * Registers every route, plus a 405 with `Allow` for other methods on a known
 * path, and a 308 from each path without its trailing slash to the path with
 * it (Django's APPEND_SLASH; 308 keeps the method and body). Body parsers run
 * only on routes that take a body: reads, the bulk of the traffic, skip them.
 */
export function buildRouter(routes: readonly RouteSpec[], authenticate: (access: Access) => RequestHandler, parsers: BodyParsers): Router {
  const router = express.Router({ strict: true });
  const methodsByPath = new Map<string, string[]>();
  for (const r of routes) {
    methodsByPath.set(r.path, [...(methodsByPath.get(r.path) ?? []), r.method.toUpperCase()]);
    const parse = r.forms ? [parsers.json, ...parsers.forms] : [parsers.json];
    const chain: RequestHandler[] = r.method === 'get' || r.method === 'delete' ? [authenticate(r.access)] : [...parse, authenticate(r.access)];
    router[r.method](r.path, ...chain, async (req, res, next) => {
      try {
        const body = r.body ? validate(r.body, req.body ?? null, 'body') : req.body;
        const query = r.query ? validate(r.query, knownQuery(r.query, req.query as Record<string, unknown>), 'query') : req.query;
        let status = r.status ?? 200;
        const result = await r.handler({
          req, res, params: req.params as Record<string, string>, body, query, principal: (req as unknown as AuthedRequest).principal,
          setStatus: (s: number) => (status = s),
        });
        if (res.headersSent) return;
        if (result === undefined) res.status(204).end();
        else res.status(status).json(result);
      } catch (err) {
        next(err);
      }
    });
  }
  for (const [path, methods] of methodsByPath) {
    router.all(path, (_req, res, next) => {
      res.setHeader('Allow', [...methods, 'OPTIONS'].join(', '));
      next(new MeterhubError('METERHUB_ERR_METHOD_NOT_ALLOWED', `method not allowed; allowed: ${methods.join(', ')}`));
    });
  }
  for (const path of methodsByPath.keys()) {
    if (!path.endsWith('/')) continue;
    router.all(path.slice(0, -1), (req, res) => {
      const [pathname, search] = splitUrl(req.originalUrl);
      res.redirect(308, `${pathname}/${search}`);
    });
  }
  return router;
}

function splitUrl(url: string): [string, string] {
  const q = url.indexOf('?');
  return q < 0 ? [url, ''] : [url.slice(0, q), url.slice(q)];
}

/**
 * This request's URL made absolute (scheme and host as the client used them,
 * through a trusted proxy too: `host.http.client`) with `params` replacing its
 * query: what DRF puts in `next` and `previous`, so clients may follow the
 * links as they are.
 */
export function absoluteUrl(client: RequestClient, req: Request, params: Record<string, string | number | undefined>): string {
  // Concatenated, not resolved: a path starting with // must not become a host.
  // originalUrl is the path as received, base path included.
  const url = new URL(`${client.protocol}://${client.host}${splitUrl(req.originalUrl)[0]}`);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, String(v));
  return url.toString();
}
export const badRequest = (path: string, message: string) => new MeterhubError('METERHUB_ERR_VALIDATION', message, { details: [{ path, message }] });
