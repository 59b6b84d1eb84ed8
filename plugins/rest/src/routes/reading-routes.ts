import { float32Decimal, getMeasurement, isTimeZone, type HostApi } from '@meterhub/sdk';
import { notFound } from '../http-errors.js';
import { bulkReadingRoute, sourceOf } from './bulk-reading-route.js';
import { readingsFromBody, submitBodySchema } from '../reading-body.js';
import { absoluteUrl, badRequest, type RouteSpec } from '../route-table.js';
import { iso, parseTime } from '../time-params.js';
import { consumptionSchema, historySchema, latestSchema, submitResultSchema } from '../response-schemas.js';

const bound = { type: 'string', maxLength: 40, description: 'ISO 8601 or epoch milliseconds; a date or a time without offset is read in `tz`' };
const tzParam = { type: 'string', maxLength: 64, default: 'UTC', description: 'IANA time zone of day buckets and of bounds without an offset' };
const historyQuery = {
  type: 'object', additionalProperties: false,
  properties: {
    from: { ...bound, description: `${bound.description}; default: 24 hours before to` }, to: { ...bound, description: `${bound.description}; default: now` },
    tz: tzParam,
    resolution: { enum: ['auto', 'raw', '1m', '1h', '1d'], default: 'auto' },
    measurements: { type: 'string', maxLength: 4000, description: 'comma-separated ids' },
    points: { type: 'integer', minimum: 1, maximum: 10000, default: 1000 },
    limit: { type: 'integer', minimum: 1, maximum: 10000, default: 5000 },
    cursor: { type: 'string', maxLength: 40 },
  },
};
const consumptionQuery = {
  type: 'object', additionalProperties: false, required: ['period'],
  properties: {
    period: { enum: ['day', 'week', 'month'] }, tz: tzParam,
    from: { ...bound, description: `${bound.description}; default: 31 days before to` }, to: { ...bound, description: `${bound.description}; default: now` },
    measurements: { type: 'string', maxLength: 4000 },
  },
};

/** The longest range one history or consumption request may span (documented in docs/rest-api.md). */
export const MAX_RANGE_MS = 5 * 366 * 86_400_000;

export function readingRoutes(host: HostApi): RouteSpec[] {
  const meterOf = async (id: string) => (await host.meters.get(id)) ?? Promise.reject(notFound(`meter "${id}"`));

  const measurementList = (s: string | undefined) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : undefined);
  /** The range asked for; bounds without an offset (a date-only `2026-11-01`) are local times in `tz`. */
  const range = (q: { from?: string; to?: string; tz: string }, defaultSpan: number) => {
    if (!isTimeZone(q.tz)) throw badRequest('?tz', 'is not a known IANA time zone (e.g. Europe/Berlin)');
    const to = q.to !== undefined ? parseTime(q.to, '?to', q.tz) : Date.now();
    const from = q.from !== undefined ? parseTime(q.from, '?from', q.tz) : to - defaultSpan;
    if (from >= to) throw badRequest('?from', 'must be before to');
    if (to - from > MAX_RANGE_MS) throw badRequest('?from', 'the range may span at most 5 years');
    return { from, to };
  };

  const routes: RouteSpec[] = [bulkReadingRoute(host)];
  for (const family of ['power', 'energy'] as const) {
    routes.push(
      {
        method: 'post', path: `/api/meters/:id/${family}/`, tag: 'readings', access: 'ingest', body: submitBodySchema, status: 201, response: submitResultSchema, alsoAnswers: { 202: submitResultSchema },
        summary: `Submit one ${family} reading or a batch, as {timestamp, values} or flat like the old logger; idempotent on (meter, timestamp)`,
        async handler({ params, body, req, setStatus }) {
          const meter = await meterOf(params['id']!);
          const readings = readingsFromBody(body, meter, meter.driver === undefined ? undefined : host.drivers.get(meter.driver), family, sourceOf(req));
          // The one door: published live, latest values updated, stored; resolves once committed or spooled.
          const { spooled } = await host.readings.submit(readings);
          // Kept on disk while the database is unreachable: accepted, not yet stored.
          if (spooled > 0) setStatus(202);
          return { accepted: readings.length, spooled };
        },
      },
      {
        method: 'get', path: `/api/meters/:id/${family}/latest/`, tag: 'readings', access: 'read', response: latestSchema,
        summary: `The newest ${family} values of a meter`,
        async handler({ params }) {
          const meter = await meterOf(params['id']!);
          const latest = host.storage.latest(meter.id, family);
          if (!latest) throw notFound(`${family} reading of meter "${meter.id}" yet`);
          return { meter: meter.id, timestamp: iso(latest.ts), values: Object.fromEntries(Object.entries(latest.values).map(([k, v]) => [k, float32Decimal(v)])) };
        },
      },
      {
        method: 'get', path: `/api/meters/:id/${family}/history/`, tag: 'readings', access: 'read', query: historyQuery, response: historySchema,
        summary: `${family} history over a time range, raw or rolled up; pages by cursor`,
        async handler({ params, query, req }) {
          const meter = await meterOf(params['id']!);
          const q = query as { from?: string; to?: string; tz: string; resolution: 'auto'; measurements?: string; points: number; limit: number; cursor?: string };
          const { from, to } = range(q, 86_400_000);
          const cursor = q.cursor !== undefined ? parseTime(q.cursor, '?cursor') : from;
          const measurements = measurementList(q.measurements);
          for (const [i, m] of (measurements ?? []).entries()) if (!getMeasurement(m)) throw badRequest(`?measurements/${i}`, `"${m}" is not a measurement`);
          // The whole range every time, the cursor only picks the page: so
          // every page has the same buckets and `count` is the total.
          const result = await host.storage.history(meter.id, { family, from, to, tz: q.tz, resolution: q.resolution, points: q.points, ...(measurements ? { measurements } : {}) });
          let first = result.points.findIndex((p) => p.ts >= cursor);
          if (first < 0) first = result.points.length;
          const points = result.points.slice(first, first + q.limit);
          const link = (index: number) => absoluteUrl(host.http.client(req), req, { ...req.query as Record<string, string>, cursor: String(result.points[index]!.ts) });
          const next = first + q.limit < result.points.length ? link(first + q.limit) : null;
          const previous = first > 0 ? link(Math.max(0, first - q.limit)) : null;
          return {
            meter: meter.id, family, tz: q.tz, resolution: result.resolution, bucket: result.bucket, bucketSeconds: result.bucketMs === null ? null : result.bucketMs / 1000,
            from: iso(from), to: iso(to), count: result.points.length, pageCount: points.length, next, previous, truncated: result.truncated,
            results: points.map((p) => ({ timestamp: iso(p.ts), ...p, ts: undefined })),
          };
        },
      },
    );
  }
  routes.push({
    method: 'get', path: '/api/meters/:id/energy/consumption/', tag: 'readings', access: 'read', query: consumptionQuery, response: consumptionSchema,
    summary: 'Consumption per local day, week or month (DST-correct), from counter deltas; with the cost of each period when the meter has a tariff',
    async handler({ params, query }) {
      const meter = await meterOf(params['id']!);
      const q = query as { period: 'day' | 'week' | 'month'; tz: string; from?: string; to?: string; measurements?: string };
      const { from, to } = range(q, 31 * 86_400_000);
      const measurements = measurementList(q.measurements);
      const periods = await host.storage.consumption(meter.id, { period: q.period, tz: q.tz, from, to, ...(measurements ? { measurements } : {}) });
      return { meter: meter.id, period: q.period, tz: q.tz, from: iso(from), to: iso(to), results: periods.map((p) => ({ start: p.start, end: p.end, partial: p.partial, values: p.values, ...(p.cost ? { cost: p.cost } : {}) })) };
    },
  });
  return routes;
}
