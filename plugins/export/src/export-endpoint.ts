import type { IncomingMessage, ServerResponse } from 'node:http';
import { credentialsFromRequest, describeError, isMeterhubError, MeterhubError, requireReadAccess, type HostApi, type Principal } from '@meterhub/sdk';
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

function sendError(res: ServerResponse, err: unknown): void {
  const coded = isMeterhubError(err) ? err : new MeterhubError('METERHUB_ERR_INTERNAL', 'Internal error');
  res.statusCode = coded.status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  if (coded.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="meterhub"');
  res.end(JSON.stringify({ error: { code: coded.code, message: coded.message, ...(coded.details.length ? { details: coded.details } : {}) } }));
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
      sendError(res, new MeterhubError('METERHUB_ERR_HTTP_NOT_FOUND', 'no such resource; the export is at /api/export/'));
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
      let principal: Principal;
      try {
        principal = requireReadAccess(await host.auth.authenticate(credentialsFromRequest(req)));
      } catch (err) {
        sendError(res, err);
        return;
      }
      const query = Object.fromEntries(new URL(req.url ?? '/', 'http://localhost').searchParams);
      let request;
      try {
        request = await parseExportRequest(query, host, config.limits);
      } catch (err) {
        sendError(res, err);
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
        host.log.error({ err: describeError(err) }, 'export failed');
        if (!res.headersSent) sendError(res, err);
        else res.destroy();
      } finally {
        counters.active--;
        report();
      }
    })();
  };
}
