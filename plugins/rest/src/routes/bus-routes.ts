import type { HostApi } from '@meterhub/sdk';
import { notFound } from '../http-errors.js';
import { badRequest, type RouteSpec } from '../route-table.js';
import { busListSchema, scanJobSchema, statusSchema } from '../response-schemas.js';
import type { ScanJobs } from '../scan-jobs.js';

interface HostStatusView {
  version: string; uptimeSeconds: number;
  acquisition: { buses: Array<Record<string, unknown> & { id: string; transport: string; state: string }> };
  storage: Record<string, unknown> | null;
  eventLoop: Record<string, unknown> | null;
  readings: { taken: number; replays: number };
}

const zeroErrors = { timeout: 0, crc: 0, exception: 0, frame: 0, connection: 0 };

/** The figures of `meterhub status` a monitoring page needs (authenticated, unlike /health/'s public part). */
export function statusRoute(host: HostApi): RouteSpec {
  return {
    method: 'get', path: '/api/status/', tag: 'health', access: 'read', response: statusSchema,
    summary: 'Per-bus requests, errors by kind and latency percentiles, the storage ingest queue and spool, the event-loop delay',
    handler() {
      const s = host.status() as unknown as HostStatusView;
      const storage = s.storage && !s.storage['closed'] ? s.storage : null;
      return {
        version: s.version,
        uptimeSeconds: s.uptimeSeconds,
        buses: s.acquisition.buses.map((b) => ({
          id: b.id, transport: b.transport, state: b.state, ...(b['message'] ? { message: b['message'] } : {}),
          connected: b['connected'] ?? false, ...(b['description'] ? { description: b['description'] } : {}),
          requests: b['requests'] ?? 0, errors: b['errors'] ?? zeroErrors, reconnects: b['reconnects'] ?? 0,
          latencyMs: b['latencyMs'] ?? null, lastError: b['lastError'] ?? null,
        })),
        storage: storage && {
          engine: storage['engine'], pending: storage['pending'], stored: storage['stored'], spooled: storage['spooled'],
          spoolDropped: storage['spoolDropped'], lastError: storage['lastError'] ?? null,
        },
        eventLoop: s.eventLoop,
        readings: s.readings,
      };
    },
  };
}

const scanBody = {
  type: 'object', additionalProperties: false,
  properties: {
    from: { type: 'integer', minimum: 1, maximum: 247, default: 1, description: 'first unit id to try' },
    to: { type: 'integer', minimum: 1, maximum: 247, default: 247, description: 'last unit id to try' },
    timeoutMs: { type: 'integer', minimum: 10, maximum: 10000, description: "per probe request; default: the bus's probeTimeoutMs" },
  },
};

/** Buses and their unit-id scan (admins: a scan spends bus time). */
export function busRoutes(host: HostApi, scans: ScanJobs): RouteSpec[] {
  const job = (params: Record<string, string>) => scans.get(params['id']!, params['scanId']!) ?? Promise.reject(notFound('such scan on this bus'));
  return [
    { method: 'get', path: '/api/buses/', tag: 'buses', access: 'read', response: busListSchema, summary: 'The configured buses', handler: () => host.buses.list() },
    {
      method: 'post', path: '/api/buses/:id/scan/', tag: 'buses', access: 'admin', body: scanBody, status: 202, response: scanJobSchema, errors: [409],
      summary: 'Start a scan of unit ids on a running bus through its scheduler (between its polls); poll the answer\'s id for progress. 409 while the bus is not running or already being scanned',
      async handler({ params, body }) {
        const b = body as { from: number; to: number; timeoutMs?: number };
        if (b.to < b.from) throw badRequest('to', `to (${b.to}) must not be below from (${b.from})`);
        return scans.start(params['id']!, b.from, b.to, b.timeoutMs);
      },
    },
    {
      method: 'get', path: '/api/buses/:id/scan/:scanId/', tag: 'buses', access: 'admin', response: scanJobSchema,
      summary: 'A scan\'s progress, and the units found with their driver and model', handler: ({ params }) => job(params),
    },
    {
      method: 'delete', path: '/api/buses/:id/scan/:scanId/', tag: 'buses', access: 'admin', status: 204,
      summary: 'Stop a scan before its next unit id (its state becomes cancelled; the units found so far stay in its result)',
      handler({ params }) {
        if (!scans.cancel(params['id']!, params['scanId']!)) throw notFound('such scan on this bus');
        return undefined;
      },
    },
  ];
}
