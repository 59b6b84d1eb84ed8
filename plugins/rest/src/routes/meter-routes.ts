import type { HostApi, MeterRecord } from '@meterhub/sdk';
import { notFound } from '../http-errors.js';
import type { RouteSpec } from '../route-table.js';

export const pageQuery = {
  type: 'object', additionalProperties: false,
  properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 }, offset: { type: 'integer', minimum: 0, default: 0 } },
};

/** DRF-style page, as the old system answered lists. */
export function page<T>(items: readonly T[], query: { limit: number; offset: number }, url: string, total = items.length): { count: number; next: string | null; previous: string | null; results: T[] } {
  const base = url.split('?')[0];
  const link = (offset: number) => `${base}?limit=${query.limit}&offset=${offset}`;
  return {
    count: total,
    next: query.offset + query.limit < total ? link(query.offset + query.limit) : null,
    previous: query.offset > 0 ? link(Math.max(0, query.offset - query.limit)) : null,
    results: items.slice(query.offset, query.offset + query.limit) as T[],
  };
}

type LiveMeter = { id: string; state: string; lastSeen: string | null; error: string | null };

/**
 * Every meter's live state, taken once per request: polled meters from the
 * scheduler, pushed ones from the arrivals of their readings; `lastSeen` is
 * the newest reading's time from the host's one latest-values store.
 */
function liveMeters(host: HostApi): Map<string, LiveMeter> {
  const out = new Map<string, LiveMeter>();
  const polled = (host.status()['acquisition'] as { meters: Array<{ id: string; state: string; lastSuccess: string | null; lastError: { message: string } | null }> } | undefined)?.meters ?? [];
  for (const m of polled) out.set(m.id, { id: m.id, state: m.state, lastSeen: m.lastSuccess, error: m.lastError?.message ?? null });
  for (const e of host.meterStates.current()) {
    const known = out.get(e.meterId);
    if (known) known.lastSeen = e.lastSeen ?? known.lastSeen;
    else out.set(e.meterId, { id: e.meterId, state: e.state, lastSeen: e.lastSeen ?? null, error: e.error ?? null });
  }
  return out;
}

/** The time of a meter's newest reading, from the host's one latest-values store. */
function newestReading(host: HostApi, id: string): string | null {
  const ts = Math.max(host.storage.latest(id, 'power')?.ts ?? -Infinity, host.storage.latest(id, 'energy')?.ts ?? -Infinity);
  return Number.isFinite(ts) ? new Date(ts).toISOString() : null;
}

/**
 * A meter with its live status. A pushed meter (no bus) is never `disabled`:
 * nothing polls it, its readings come when they come. `lastSeen` is the newest
 * reading's time whatever the state (a disabled meter may still get readings).
 */
function withStatus(host: HostApi, live: ReadonlyMap<string, LiveMeter>, m: MeterRecord) {
  const s = live.get(m.id);
  const state = m.enabled || m.bus === undefined ? s?.state ?? 'unknown' : 'disabled';
  return { ...m, status: { online: s?.state === 'online', state, lastSeen: s?.lastSeen ?? newestReading(host, m.id), error: s?.error ?? null } };
}

/** `/api/meters/` and `/api/meters/{id}/`; changes reach the scheduler within a cycle. */
export function meterRoutes(host: HostApi): RouteSpec[] {
  const schema = host.meters.schema();
  const patchSchema = { ...schema, required: [] };
  const get = async (id: string) => (await host.meters.get(id)) ?? Promise.reject(notFound(`meter "${id}"`));
  return [
    {
      method: 'get', path: '/api/meters/', tag: 'meters', access: 'read', query: pageQuery, summary: 'List meters with their live status',
      async handler({ query, req }) {
        const live = liveMeters(host);
        return page((await host.meters.list()).map((m) => withStatus(host, live, m)), query as { limit: number; offset: number }, req.originalUrl);
      },
    },
    {
      method: 'post', path: '/api/meters/', tag: 'meters', access: 'meters:write', body: schema, status: 201,
      summary: 'Create a meter: with a bus it is polled within a cycle; without one (e.g. `{"name": "Garage"}`) it is a pushed meter taking submitted readings',
      async handler({ body }) {
        return withStatus(host, liveMeters(host), await host.meters.create(body));
      },
    },
    {
      method: 'get', path: '/api/meters/:id/', tag: 'meters', access: 'read', summary: 'One meter with its live status',
      async handler({ params }) {
        return withStatus(host, liveMeters(host), await get(params['id']!));
      },
    },
    {
      method: 'put', path: '/api/meters/:id/', tag: 'meters', access: 'meters:write', body: schema,
      summary: 'Replace a meter (meters of the config file answer 409)',
      async handler({ params, body }) {
        return withStatus(host, liveMeters(host), await host.meters.update(params['id']!, body as Record<string, unknown>, false));
      },
    },
    {
      method: 'patch', path: '/api/meters/:id/', tag: 'meters', access: 'meters:write', body: patchSchema,
      summary: 'Change some fields of a meter (meters of the config file answer 409)',
      async handler({ params, body }) {
        return withStatus(host, liveMeters(host), await host.meters.update(params['id']!, body as Record<string, unknown>, true));
      },
    },
    {
      method: 'delete', path: '/api/meters/:id/', tag: 'meters', access: 'meters:write',
      summary: 'Delete a meter and its history (meters of the config file answer 409)',
      async handler({ params }) {
        await host.meters.remove(params['id']!);
        return undefined;
      },
    },
  ];
}
