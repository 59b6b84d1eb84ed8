import type { Request } from 'express';
import { apply as mergePatch } from 'json-merge-patch';
import { isMeterhubError, type HostApi, type MeterRecord, type RequestClient } from '@meterhub/sdk';
import { notFound } from '../http-errors.js';
import { absoluteUrl, type RouteSpec } from '../route-table.js';
import { meterSchema, pageSchema } from '../response-schemas.js';

export const pageQuery = {
  type: 'object', additionalProperties: false,
  properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 }, offset: { type: 'integer', minimum: 0, default: 0 } },
};

/**
 * DRF-style page (LimitOffsetPagination), as the old system answered lists:
 * `count` is the total, `next` and `previous` absolute URLs (the previous
 * link drops `offset` when it would be 0, as DRF's does).
 */
export function page<T>(items: readonly T[], query: { limit: number; offset: number }, at: { req: Request; client: RequestClient }, total = items.length): { count: number; next: string | null; previous: string | null; results: T[] } {
  const link = (offset: number) => absoluteUrl(at.client, at.req, { limit: query.limit, ...(offset > 0 ? { offset } : {}) });
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

/** A schema without its defaults: a patch must not fill in what it leaves out. */
function withoutDefaults(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutDefaults);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(Object.entries(schema).filter(([k]) => k !== 'default').map(([k, v]) => [k, withoutDefaults(v)]));
}

type Schema = { properties: Record<string, object>; required?: string[] };

/**
 * The meter schema as the API takes it: an id may be a number (the old API's
 * ids were integers; it is stored as its decimal string) and may be left out
 * on create (the next free number is given).
 */
function createSchema(schema: Schema): object {
  const { id, ...rest } = schema.properties;
  return { ...schema, required: (schema.required ?? []).filter((r) => r !== 'id'), properties: { id: { anyOf: [id, { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER }] }, ...rest } };
}

/** RFC 7396 merge patch: each field may also be null, which removes it (back to its default). */
function patchSchema(schema: Schema): object {
  const bare = withoutDefaults(schema) as Schema;
  return { ...bare, required: [], properties: Object.fromEntries(Object.entries(bare.properties).map(([k, v]) => [k, { anyOf: [v, { type: 'null' }] }])) };
}

/** The next number no meter uses as its id, above every numeric id (ids are never reused while a higher one exists). */
function nextNumericId(meters: readonly MeterRecord[]): string {
  const numbers = meters.map((m) => (/^[1-9]\d{0,14}$/.test(m.id) ? Number(m.id) : 0));
  return String(Math.max(0, ...numbers) + 1);
}

/** `/api/meters/` and `/api/meters/{id}/`; changes reach the scheduler within a cycle. */
export function meterRoutes(host: HostApi): RouteSpec[] {
  const schema = host.meters.schema() as unknown as Schema;
  const answer = meterSchema(schema as unknown as Record<string, unknown>);
  const get = async (id: string) => (await host.meters.get(id)) ?? Promise.reject(notFound(`meter "${id}"`));
  const create = async (body: Record<string, unknown>) => {
    if (body['id'] !== undefined) return host.meters.create({ ...body, id: String(body['id']) });
    // A name alone: the registry makes the id from it (`Garage` -> `garage`, then `garage-2`).
    if (typeof body['name'] === 'string' && body['name'].trim() !== '') return host.meters.create(body);
    // Two clients creating at once may pick the same number: the loser takes the next one.
    for (let attempt = 0; ; attempt++) {
      try {
        return await host.meters.create({ ...body, id: nextNumericId(await host.meters.list()) });
      } catch (err) {
        if (attempt >= 4 || !isMeterhubError(err) || err.code !== 'METERHUB_ERR_CONFLICT') throw err;
      }
    }
  };
  return [
    {
      method: 'get', path: '/api/meters/', tag: 'meters', access: 'read', query: pageQuery, response: pageSchema(answer), summary: 'List meters with their live status',
      async handler({ query, req }) {
        const live = liveMeters(host);
        return page((await host.meters.list()).map((m) => withStatus(host, live, m)), query as { limit: number; offset: number }, { req, client: host.http.client(req) });
      },
    },
    {
      method: 'post', path: '/api/meters/', tag: 'meters', access: 'meters:write', body: createSchema(schema), status: 201, response: answer, errors: [409],
      summary: 'Create a meter: with a bus it is polled within a cycle; without one (e.g. `{"name": "Garage"}`) it is a pushed meter taking submitted readings. Without an id, one is made from the name, else the next free number',
      async handler({ body }) {
        return withStatus(host, liveMeters(host), await create(body as Record<string, unknown>));
      },
    },
    {
      method: 'get', path: '/api/meters/:id/', tag: 'meters', access: 'read', response: answer, summary: 'One meter with its live status',
      async handler({ params }) {
        return withStatus(host, liveMeters(host), await get(params['id']!));
      },
    },
    {
      method: 'put', path: '/api/meters/:id/', tag: 'meters', access: 'meters:write', body: schema, response: answer, errors: [409],
      summary: 'Replace a meter (meters of the config file answer 409)',
      async handler({ params, body }) {
        return withStatus(host, liveMeters(host), await host.meters.update(params['id']!, body as Record<string, unknown>, false));
      },
    },
    {
      method: 'patch', path: '/api/meters/:id/', tag: 'meters', access: 'meters:write', body: patchSchema(schema), response: answer, errors: [409],
      summary: 'Change some fields of a meter as a JSON merge patch (RFC 7396: fields left out stay, null removes); meters of the config file answer 409',
      async handler({ params, body }) {
        const { source: _s, connection: _c, ...current } = await get(params['id']!) as MeterRecord & { source?: unknown; connection?: unknown };
        const merged = mergePatch(structuredClone(current), body) as Record<string, unknown>;
        return withStatus(host, liveMeters(host), await host.meters.update(params['id']!, merged, false));
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
