import type { ErrorRequestHandler } from 'express';
import { describeError, isMeterhubError, MeterhubError, type ErrorDetail } from '@meterhub/sdk';

/** The JSON error body every endpoint uses: `{error: {code, message, details?}}`. */
export function errorBody(code: string, message: string, details?: readonly ErrorDetail[]) {
  return { error: { code, message, ...(details && details.length ? { details } : {}) } };
}

/**
 * Turns anything thrown by a route into a JSON response with the right status:
 * coded errors keep theirs, express's body parser errors become 400/413, the
 * rest is a 500 without internals (unless DEBUG is on).
 */
export function errorHandler(debug: () => boolean, log: (err: unknown) => void): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    let status = 500;
    let body;
    const type = (err as { type?: string }).type;
    if (isMeterhubError(err)) {
      status = err.status;
      body = errorBody(err.code, err.message, err.details);
    } else if (type === 'entity.too.large') {
      status = 413;
      body = errorBody('METERHUB_ERR_VALIDATION', 'the request body is too large');
    } else if (type === 'entity.parse.failed' || type === 'encoding.unsupported' || type === 'charset.unsupported') {
      status = 400;
      body = errorBody('METERHUB_ERR_VALIDATION', 'the request body is not valid JSON', [{ path: '/', message: 'must be valid JSON' }]);
    } else {
      log(err);
      body = errorBody('METERHUB_ERR_INTERNAL', debug() ? describeError(err) : 'Internal error');
    }
    if (!res.headersSent) res.status(status).json(body);
  };
}

export const notFound = (what: string) => new MeterhubError('METERHUB_ERR_HTTP_NOT_FOUND', `no ${what}`);
