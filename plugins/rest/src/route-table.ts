import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { MeterhubError } from '@meterhub/sdk';
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
  query?: object;
  /** Status of a successful answer (default 200; a handler returning undefined answers 204). */
  status?: number;
  /** JSON Schema of the successful answer, for the OpenAPI document (and the test hook that checks every answer against it). */
  response?: object;
  /** Error statuses beyond those every route documents (400, 401/403, 404 with a path id, 405, 413/415 with a body, 503): 404, 409, 429. */
  errors?: Array<404 | 409 | 429>;
  /** Other statuses the handler answers with a body of its own (via setStatus), e.g. /health/'s 503, with their schema. */
  alsoAnswers?: Record<number, object>;
  handler(ctx: RouteContext<any, any>): Promise<unknown> | unknown;
}

/**
 * Registers every route, plus a 405 with `Allow` for other methods on a known
 * path. `parseBody` runs only on routes that take a body: reads, the bulk of
 * the traffic, skip it.
 */
export function buildRouter(routes: readonly RouteSpec[], authenticate: (access: Access) => RequestHandler, parseBody: RequestHandler): Router {
  const router = express.Router({ strict: true });
  const methodsByPath = new Map<string, string[]>();
  for (const r of routes) {
    methodsByPath.set(r.path, [...(methodsByPath.get(r.path) ?? []), r.method.toUpperCase()]);
    const chain: RequestHandler[] = r.method === 'get' || r.method === 'delete' ? [authenticate(r.access)] : [parseBody, authenticate(r.access)];
    router[r.method](r.path, ...chain, async (req, res, next) => {
      try {
        const body = r.body ? validate(r.body, req.body ?? null, 'body') : req.body;
        const query = r.query ? validate(r.query, req.query, 'query') : req.query;
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
  return router;
}

export const badRequest = (path: string, message: string) => new MeterhubError('METERHUB_ERR_VALIDATION', message, { details: [{ path, message }] });
