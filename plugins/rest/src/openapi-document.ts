import type { RouteSpec } from './route-table.js';

/** The error body every endpoint answers with: the meterhub object plus the keys DRF and simplejwt clients read. */
export const ERROR_SCHEMA = {
  type: 'object', required: ['error'],
  description: 'The meterhub error object, and beside it DRF\'s `detail` (non-field errors), `{"<field>": ["message"]}` (field errors) and simplejwt\'s `code: "token_not_valid"`.',
  properties: {
    error: {
      type: 'object', required: ['code', 'message'],
      properties: {
        code: { type: 'string', pattern: '^METERHUB_ERR_' }, message: { type: 'string' },
        details: { type: 'array', items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' }, hint: { type: 'string' } } } },
      },
    },
    detail: { type: 'string' },
    code: { const: 'token_not_valid' },
    non_field_errors: { type: 'array', items: { type: 'string' } },
  },
  additionalProperties: { type: 'array', items: { type: 'string' } },
};

const errorResponse = (description: string, headers?: Record<string, unknown>) => ({
  description, ...(headers ? { headers } : {}), content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});
const retryAfter = { 'Retry-After': { description: 'seconds to wait before trying again', schema: { type: 'integer', minimum: 1 } } };

/** Shared error responses, by name; routes and plugins (`host.http.describe`) refer to them. */
export const ERROR_RESPONSES = {
  BadRequest: errorResponse('invalid body, query or path (a bad percent-escape, a body that is not the Content-Encoding it claims); field errors name each field'),
  Unauthorized: errorResponse('missing, expired, invalid or revoked credentials; a bad token carries code "token_not_valid"', {
    'WWW-Authenticate': { description: 'always `Bearer realm="api"`', schema: { type: 'string' } },
  }),
  Forbidden: errorResponse('the role or the key\'s scopes do not allow this'),
  NotFound: errorResponse('no such resource'),
  MethodNotAllowed: errorResponse('wrong method for this path; `Allow` lists the right ones', { Allow: { schema: { type: 'string' } } }),
  Conflict: errorResponse('conflicts with the current state (a config-file meter or tariff, an existing id, a tariff still assigned, the last admin)'),
  TooLarge: errorResponse('the body is larger than plugins.rest.config.bodyLimit'),
  UnsupportedMediaType: errorResponse('a Content-Encoding or charset that is not supported'),
  TooManyRequests: errorResponse('login throttled or locked', retryAfter),
  Unavailable: errorResponse('the database is unreachable or the server is shutting down', retryAfter),
  Error: errorResponse('any other error'),
};

const ref = (name: keyof typeof ERROR_RESPONSES) => ({ $ref: `#/components/responses/${name}` });

/** Every status a route can answer, success and error, from what the route declares. */
function responsesOf(r: RouteSpec, hasPathParams: boolean): Record<string, unknown> {
  const status = r.status ?? 200;
  const success = status === 204
    ? { description: 'done; no body' }
    : { description: 'success', content: { 'application/json': { schema: r.response ?? { type: 'object' } } } };
  const takesBody = r.method !== 'get' && r.method !== 'delete';
  return {
    [String(status)]: success,
    400: ref('BadRequest'),
    ...(r.access !== 'public' ? { 401: ref('Unauthorized'), 403: ref('Forbidden') } : {}),
    ...(hasPathParams || r.errors?.includes(404) ? { 404: ref('NotFound') } : {}),
    405: ref('MethodNotAllowed'),
    ...(r.errors?.includes(409) ? { 409: ref('Conflict') } : {}),
    ...(takesBody ? { 413: ref('TooLarge'), 415: ref('UnsupportedMediaType') } : {}),
    ...(r.errors?.includes(429) ? { 429: ref('TooManyRequests') } : {}),
    503: ref('Unavailable'),
    ...Object.fromEntries(Object.entries(r.alsoAnswers ?? {}).map(([s, schema]) => [s, { description: 'see the summary', content: { 'application/json': { schema } } }])),
    default: ref('Error'),
  };
}

/**
 * The OpenAPI 3.1 document: every route of the table with the schemas it
 * validates with and answers with, every status it can answer, and the path
 * items other plugins described through the host (`/api/export/`); `servers`
 * is the base URL as the requesting client reaches it.
 */
export function openApiDocument(routes: readonly RouteSpec[], info: { title: string; version: string }, described: Record<string, Record<string, unknown>> = {}, serverUrl?: string): Record<string, unknown> {
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
      responses: responsesOf(r, pathParams.length > 0),
      security: r.access === 'public' ? [] : [{ bearer: [] }, { apiKey: [] }],
      'x-meterhub-access': r.access,
    };
    const body = r.documentedBody ?? r.body;
    if (body) {
      const forms = r.forms ? { 'application/x-www-form-urlencoded': { schema: body }, 'multipart/form-data': { schema: body } } : {};
      op['requestBody'] = { required: true, content: { 'application/json': { schema: body }, ...forms } };
    }
    (paths[path] ??= {})[r.method] = op;
  }
  for (const [path, item] of Object.entries(described)) paths[path] = { ...item, ...paths[path] };
  return {
    openapi: '3.1.0',
    info,
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    paths,
    components: {
      schemas: { Error: ERROR_SCHEMA },
      responses: ERROR_RESPONSES,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } },
    },
  };
}
