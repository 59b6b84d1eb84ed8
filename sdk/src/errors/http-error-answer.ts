import type { ServerResponse } from 'node:http';
import { describeError, isMeterhubError, MeterhubError, type ErrorCode, type ErrorDetail } from './error-catalog.js';

/** The realm every 401 names in `WWW-Authenticate`, as the old Django API did. */
export const AUTH_REALM = 'api';

/** What an error becomes on the wire: status, headers and the JSON body. */
export interface HttpErrorAnswer {
  status: number;
  headers: Record<string, string>;
  /**
   * `{"error": {code, message, details?}}` plus the keys Django REST Framework
   * clients read: `detail` for a non-field error, `{"<field>": ["message"]}`
   * for field errors, and simplejwt's `code: "token_not_valid"` for a bad token.
   */
  body: Record<string, unknown>;
  /**
   * The level to log it at: `debug` for anything a client caused (4xx),
   * `warn` for a coded 5xx (a dependency is down), `error` for a bug.
   */
  logLevel: 'debug' | 'warn' | 'error';
}

/** Catalog codes for errors that carry only an HTTP status (body parser, router). */
const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'METERHUB_ERR_VALIDATION', 401: 'METERHUB_ERR_UNAUTHORIZED', 403: 'METERHUB_ERR_FORBIDDEN', 404: 'METERHUB_ERR_HTTP_NOT_FOUND',
  405: 'METERHUB_ERR_METHOD_NOT_ALLOWED', 409: 'METERHUB_ERR_CONFLICT', 413: 'METERHUB_ERR_TOO_LARGE', 429: 'METERHUB_ERR_RATE_LIMITED',
};

interface StatusError { status?: unknown; statusCode?: unknown; type?: unknown; code?: unknown; expose?: unknown; message?: unknown }

/** A client error from express, its router or body-parser (they carry `status`), as code, message and details. */
function clientError(err: StatusError, status: number): { code: ErrorCode; message: string; details: ErrorDetail[] } {
  const code = CODE_BY_STATUS[status] ?? 'METERHUB_ERR_VALIDATION';
  const type = typeof err.type === 'string' ? err.type : '';
  const zcode = typeof err.code === 'string' ? err.code : '';
  if (type === 'entity.parse.failed') return { code, message: 'the request body is not valid JSON', details: [{ path: '/', message: 'must be valid JSON' }] };
  if (type === 'entity.too.large') return { code, message: 'the request body is too large', details: [] };
  if (type === 'encoding.unsupported') return { code, message: 'the Content-Encoding is not supported; use gzip, deflate, br or none', details: [] };
  if (type === 'charset.unsupported') return { code, message: 'the charset is not supported; use utf-8', details: [] };
  if (/^Z_|BROTLI|ERR__ERROR/.test(zcode)) return { code, message: 'the request body is not encoded as its Content-Encoding says', details: [] };
  const message = typeof err.message === 'string' && err.expose !== false ? err.message : `HTTP ${status}`;
  // The router's "Failed to decode param '%ZZ'": name the part at fault without echoing more than the path.
  if (/^Failed to decode param/.test(message)) return { code: 'METERHUB_ERR_VALIDATION', message: 'a path segment is not valid percent-encoding', details: [{ path: 'path', message: 'must be valid percent-encoding' }] };
  return { code, message, details: [] };
}

/** The field name a detail path names: `/password` → `password`, `?from` → `from`, `/0/values/x` → `0.values.x`. */
function fieldOf(path: string): string {
  const bare = path.replace(/^[?/]+/, '');
  return bare === '' ? 'non_field_errors' : bare.split('/').join('.');
}

/** DRF's field-error map: `{"<field>": ["message", …]}`, object-level problems under `non_field_errors`. */
function fieldErrors(details: readonly ErrorDetail[]): Record<string, string[]> {
  // No prototype: a field named `constructor` or `__proto__` is just a field.
  const out = Object.create(null) as Record<string, string[]>;
  for (const d of details) {
    let field = fieldOf(d.path);
    // `error` holds the meterhub object; a field of that name goes with the object-level problems.
    if (field === 'error') field = 'non_field_errors';
    (out[field] ??= []).push(d.message);
  }
  return out;
}

/**
 * Turns anything thrown while answering an HTTP request into the answer every
 * endpoint of the host and its plugins gives. Coded errors keep their status;
 * express, router and body-parser errors with a 4xx status (bad JSON, a body
 * that is not the gzip it claims, a bad percent-escape) stay 4xx; anything else
 * is a 500 whose message is hidden unless `debug` is on. Plugins call it (or
 * `sendHttpError`) from their error handlers; the host does for everything else.
 */
export function httpErrorAnswer(err: unknown, opts: { debug?: boolean } = {}): HttpErrorAnswer {
  let status: number;
  let code: string;
  let message: string;
  let details: readonly ErrorDetail[] = [];
  let logLevel: HttpErrorAnswer['logLevel'];
  let retryAfter: number | undefined;
  const raw = (err ?? {}) as StatusError;
  const rawStatus = Number(raw.status ?? raw.statusCode);
  if (isMeterhubError(err)) {
    ({ status, code, message, details } = err);
    retryAfter = err.retryAfterSeconds;
    logLevel = status < 500 ? 'debug' : code === 'METERHUB_ERR_INTERNAL' ? 'error' : 'warn';
  } else if (rawStatus >= 400 && rawStatus < 500) {
    status = rawStatus;
    ({ code, message, details } = clientError(raw, status));
    logLevel = 'debug';
  } else {
    status = 500;
    code = 'METERHUB_ERR_INTERNAL';
    message = opts.debug ? describeError(err) : 'Internal error';
    logLevel = 'error';
  }
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (status === 401) headers['www-authenticate'] = `Bearer realm="${AUTH_REALM}"`;
  if (status === 503 || status === 429) headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfter ?? 5)));
  const error = { code, message, ...(details.length ? { details } : {}) };
  const drf = code === 'METERHUB_ERR_VALIDATION' && details.length ? fieldErrors(details)
    : { detail: message, ...(code === 'METERHUB_ERR_TOKEN_INVALID' ? { code: 'token_not_valid' } : {}) };
  return { status, headers, body: { ...drf, error }, logLevel };
}

/**
 * For an error without a code (a database driver's connection error, a pool
 * timeout): when `ping` says the database does not answer, the coded 503
 * METERHUB_ERR_DATABASE_UNAVAILABLE (with `Retry-After`) to answer instead of
 * a 500; otherwise `err` unchanged. Plugins call it before `sendHttpError` on
 * requests that read the database.
 */
export async function unavailableIfDatabaseDown(err: unknown, ping: () => Promise<boolean>): Promise<unknown> {
  if (isMeterhubError(err)) return err;
  const status = Number((err as StatusError | undefined)?.status ?? (err as StatusError | undefined)?.statusCode);
  if (status >= 400 && status < 500) return err;
  const up = await Promise.race([ping().catch(() => false), new Promise<boolean>((resolve) => setTimeout(resolve, 3000, false).unref())]);
  return up ? err : new MeterhubError('METERHUB_ERR_DATABASE_UNAVAILABLE', undefined, { cause: err, retryAfterSeconds: 5 });
}

/**
 * Writes `httpErrorAnswer(err)` on a plain Node response (headers not sent yet;
 * once they are, the response is destroyed so a client never takes a cut-short
 * answer for a whole one). Returns the answer, for logging at its `logLevel`.
 */
export function sendHttpError(res: ServerResponse, err: unknown, opts: { debug?: boolean } = {}): HttpErrorAnswer {
  const answer = httpErrorAnswer(err, opts);
  if (res.headersSent) {
    res.destroy();
    return answer;
  }
  res.statusCode = answer.status;
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  res.end(JSON.stringify(answer.body));
  return answer;
}

/** The same answer as raw HTTP/1.1 text, for refusing an upgrade (WebSocket) before any handshake. */
export function httpErrorResponseText(err: unknown, opts: { debug?: boolean } = {}): string {
  const answer = httpErrorAnswer(err, opts);
  const body = JSON.stringify(answer.body);
  const reasons: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 503: 'Service Unavailable' };
  const head = Object.entries(answer.headers).map(([n, v]) => `${n}: ${v}\r\n`).join('');
  return `HTTP/1.1 ${answer.status} ${reasons[answer.status] ?? 'Error'}\r\n${head}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}
