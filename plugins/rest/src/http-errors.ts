import type { ErrorRequestHandler } from 'express';
import { describeError, MeterhubError, sendHttpError, unavailableIfDatabaseDown, type PluginLogger } from '@meterhub/sdk';

/**
 * The REST API's last handler: the SDK's one error-to-HTTP mapping, logged at
 * the level it names (client mistakes at debug, so nobody can fill the log at
 * error level from outside).
 */
export function errorHandler(debug: () => boolean, log: PluginLogger, ping: () => Promise<boolean>): ErrorRequestHandler {
  return (err, req, res, _next) => {
    // A database that does not answer is a 503 with Retry-After, not a bug.
    void unavailableIfDatabaseDown(err, ping).then((answered) => {
      const answer = sendHttpError(res, answered, { debug: debug() });
      log[answer.logLevel]({ err: describeError(err), status: answer.status, method: req.method, url: req.originalUrl.slice(0, 200) }, 'request failed');
    });
  };
}

export const notFound = (what: string) => new MeterhubError('METERHUB_ERR_HTTP_NOT_FOUND', `no ${what}`);
