import type { HostApi, MeterRecord } from '@meterhub/sdk';
import { notFound } from '../http-errors.js';
import type { RouteSpec } from '../route-table.js';
import { meterSchema, pageSchema } from '../response-schemas.js';

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

type LiveMeter = { id: string; state: string; lastSuccess: string | null; lastError: { message: string } | null };

/** The scheduler's view of every meter, taken once per request (status() builds percentiles). */
function liveMeters(host: HostApi): Map<string, LiveMeter> {
  const acquisition = host.status()['acquisition'] as { meters: LiveMeter[] } | undefined;
  return new Map((acquisition?.meters ?? []).map((m) => [m.id, m]));
}

/** A meter with its live status from the scheduler. */
function withStatus(live: ReadonlyMap<string, LiveMeter>, m: MeterRecord) {
  const s = live.get(m.id);
  return { ...m, status: { online: s?.state === 'online', state: m.enabled ? s?.state ?? 'unknown' : 'disabled', lastSeen: s?.lastSuccess ?? null, error: s?.lastError?.message ?? null } };
}

/** `/api/meters/` and `/api/meters/{id}/`; changes reach the scheduler within a cycle. */
export function meterRoutes(host: HostApi): RouteSpec[] {
  const schema = host.meters.schema();
  const patchSchema = { ...schema, required: [] };
  const answer = meterSchema(schema);
  const get = async (id: string) => (await host.meters.get(id)) ?? Promise.reject(notFound(`meter "${id}"`));
  return [
    {
      method: 'get', path: '/api/meters/', tag: 'meters', access: 'read', query: pageQuery, response: pageSchema(answer), summary: 'List meters with their live status',
      async handler({ query, req }) {
        const live = liveMeters(host);
        return page((await host.meters.list()).map((m) => withStatus(live, m)), query as { limit: number; offset: number }, req.originalUrl);
      },
    },
    {
      method: 'post', path: '/api/meters/', tag: 'meters', access: 'meters:write', body: schema, status: 201, response: answer, errors: [409],
      summary: 'Create a meter; it is polled within a cycle',
      async handler({ body }) {
        return withStatus(liveMeters(host), await host.meters.create(body));
      },
    },
    {
      method: 'get', path: '/api/meters/:id/', tag: 'meters', access: 'read', response: answer, summary: 'One meter with its live status',
      async handler({ params }) {
        return withStatus(liveMeters(host), await get(params['id']!));
      },
    },
    {
      method: 'put', path: '/api/meters/:id/', tag: 'meters', access: 'meters:write', body: schema, response: answer, errors: [409],
      summary: 'Replace a meter (meters of the config file answer 409)',
      async handler({ params, body }) {
        return withStatus(liveMeters(host), await host.meters.update(params['id']!, body as Record<string, unknown>, false));
      },
    },
    {
      method: 'patch', path: '/api/meters/:id/', tag: 'meters', access: 'meters:write', body: patchSchema, response: answer, errors: [409],
      summary: 'Change some fields of a meter (meters of the config file answer 409)',
      async handler({ params, body }) {
        return withStatus(liveMeters(host), await host.meters.update(params['id']!, body as Record<string, unknown>, true));
      },
    },
    {
      method: 'delete', path: '/api/meters/:id/', tag: 'meters', access: 'meters:write', status: 204, errors: [409],
      summary: 'Delete a meter and its history (meters of the config file answer 409)',
      async handler({ params }) {
        await host.meters.remove(params['id']!);
        return undefined;
      },
    },
  ];
}
