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
  /** JSON Schema of the successful answer, for the OpenAPI document. */
  response?: object;
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

/** OpenAPI 3.1 document generated from the route table and its schemas. */
export function openApiDocument(routes: readonly RouteSpec[], info: { title: string; version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:(\w+)/g, '{$1}');
    const pathParams = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const queryProps = (r.query as { properties?: Record<string, object>; required?: string[] } | undefined)?.properties ?? {};
    const queryRequired = (r.query as { required?: string[] } | undefined)?.required ?? [];
    const op: Record<string, unknown> = {
      tags: [r.tag],
      summary: r.summary,
      operationId: `${r.method}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      parameters: [...pathParams, ...Object.entries(queryProps).map(([name, schema]) => ({ name, in: 'query', required: queryRequired.includes(name), schema }))],
      responses: {
        [String(r.status ?? 200)]: { description: 'success', ...(r.response ? { content: { 'application/json': { schema: r.response } } } : {}) },
        ...(r.body || r.query ? { 400: { $ref: '#/components/responses/BadRequest' } } : {}),
        ...(r.access !== 'public' ? { 401: { $ref: '#/components/responses/Unauthorized' }, 403: { $ref: '#/components/responses/Forbidden' } } : {}),
      },
      security: r.access === 'public' ? [] : [{ bearer: [] }, { apiKey: [] }],
      'x-meterhub-access': r.access,
    };
    if (r.body) op['requestBody'] = { required: true, content: { 'application/json': { schema: r.body } } };
    (paths[path] ??= {})[r.method] = op;
  }
  const errorSchema = {
    type: 'object',
    properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } } } } },
  };
  const resp = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      schemas: { Error: errorSchema },
      responses: { BadRequest: resp('invalid body or query; details name each field'), Unauthorized: resp('missing, expired or invalid credentials'), Forbidden: resp('not allowed for this account') },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } },
    },
  };
}

export const badRequest = (path: string, message: string) => new MeterhubError('METERHUB_ERR_VALIDATION', message, { details: [{ path, message }] });
