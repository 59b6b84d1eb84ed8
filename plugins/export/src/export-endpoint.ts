import type { IncomingMessage, ServerResponse } from 'node:http';
import { credentialsFromRequest, describeError, MeterhubError, requireReadAccess, sendHttpError, unavailableIfDatabaseDown, type HostApi, type Principal } from '@meterhub/sdk';
import { fileName, runExport } from './export-engine.js';
import { CONTENT_TYPES } from './table-sink.js';
import { parseExportRequest, type RangeLimits } from './export-request.js';

export interface EndpointConfig {
  limits: RangeLimits;
  pageSize: number;
  maxRowsPerSheet: number;
}

export interface ExportCounters {
  active: number;
  completed: number;
  aborted: number;
  failed: number;
  rows: number;
}

/** The SDK's one error answer, logged at the level it names (a client's mistake at debug). */
async function sendError(host: HostApi, res: ServerResponse, err: unknown): Promise<void> {
  const answer = sendHttpError(res, await unavailableIfDatabaseDown(err, () => host.storage.ping()), { debug: host.settings().debug });
  host.log[answer.logLevel]({ err: describeError(err), status: answer.status }, 'export refused');
}

/**
 * `GET /api/export/`: authenticates like the REST API (any user, or a key with
 * `read`), validates the query, then streams the file. Errors found before the
 * first byte are JSON 4xx; a failure mid-stream destroys the response, so a
 * download is never silently cut short and reported complete.
 */
export function exportHandler(host: HostApi, config: EndpointConfig, counters: ExportCounters, report: () => void) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== '/' && path !== '') {
      void sendError(host, res, new MeterhubError('METERHUB_ERR_HTTP_NOT_FOUND', 'no such resource; the export is at /api/export/'));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      void sendError(host, res, new MeterhubError('METERHUB_ERR_METHOD_NOT_ALLOWED', 'method not allowed; allowed: GET'));
      return;
    }
    void (async () => {
      let principal: Principal;
      try {
        principal = requireReadAccess(await host.auth.authenticate(credentialsFromRequest(req)));
      } catch (err) {
        await sendError(host, res, err);
        return;
      }
      const query = Object.fromEntries(new URL(req.url ?? '/', 'http://localhost').searchParams);
      let request;
      try {
        request = await parseExportRequest(query, host, config.limits);
      } catch (err) {
        await sendError(host, res, err);
        return;
      }
      // Once the file starts, an error can only cut the download: ask the database first, so an outage is a 503 with Retry-After.
      if (!(await host.storage.ping())) {
        await sendError(host, res, new MeterhubError('METERHUB_ERR_DATABASE_UNAVAILABLE', undefined, { retryAfterSeconds: 5 }));
        return;
      }
      const controller = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) controller.abort();
      });
      res.statusCode = 200;
      res.setHeader('content-type', CONTENT_TYPES[request.format]);
      res.setHeader('content-disposition', `attachment; filename="${fileName(request)}"`);
      res.setHeader('cache-control', 'no-store');
      res.setHeader('x-content-type-options', 'nosniff');
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      counters.active++;
      report();
      host.log.info({ meters: request.meters, format: request.format, from: request.from, to: request.to, user: principal.kind === 'user' ? principal.user.username : `key ${principal.key.prefix}` }, 'export started');
      try {
        const result = await runExport(request, {
          storage: host.storage,
          meter: (id) => host.meters.get(id),
          driver: (id) => host.drivers.get(id),
          tariff: (id) => host.tariffs.forMeter(id),
        }, res, { pageSize: config.pageSize, maxRowsPerSheet: config.maxRowsPerSheet, signal: controller.signal });
        counters.rows += result.rows;
        if (result.completed) counters.completed++;
        else {
          counters.aborted++;
          host.log.info({ rows: result.rows }, 'export stopped: the client went away');
          res.destroy();
        }
      } catch (err) {
        counters.failed++;
        if (res.headersSent) {
          // The database going away mid-download is an outage, not a bug.
          host.log[(await host.storage.ping()) ? 'error' : 'warn']({ err: describeError(err) }, 'export failed');
          res.destroy();
        } else await sendError(host, res, err);
      } finally {
        counters.active--;
        report();
      }
    })();
  };
}
