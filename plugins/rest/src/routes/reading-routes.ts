import { getMeasurement, MeterhubError, type ErrorDetail, type HostApi, type MeasurementFamily } from '@meterhub/sdk';
import { notFound } from '../http-errors.js';
import { badRequest, type RouteSpec } from '../route-table.js';
import { iso, parseTime } from '../time-params.js';

const MAX_BATCH = 5000;

const readingSchema = {
  type: 'object', additionalProperties: false, required: ['timestamp', 'values'],
  properties: {
    timestamp: { anyOf: [{ type: 'string', maxLength: 40 }, { type: 'integer' }], description: 'ISO 8601 or epoch milliseconds' },
    values: { type: 'object', minProperties: 1, maxProperties: 200, additionalProperties: { type: 'number' } },
  },
};
const submitBody = { anyOf: [readingSchema, { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: readingSchema }] };
const historyQuery = {
  type: 'object', additionalProperties: false, required: ['from', 'to'],
  properties: {
    from: { type: 'string', maxLength: 40 }, to: { type: 'string', maxLength: 40 },
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
    period: { enum: ['day', 'week', 'month'] }, tz: { type: 'string', maxLength: 64, default: 'UTC' },
    from: { type: 'string', maxLength: 40 }, to: { type: 'string', maxLength: 40 },
    measurements: { type: 'string', maxLength: 4000 },
  },
};

/** The longest range one history or consumption request may span (documented in docs/rest-api.md). */
export const MAX_RANGE_MS = 5 * 366 * 86_400_000;

export function readingRoutes(host: HostApi): RouteSpec[] {
  const meterOf = async (id: string) => (await host.meters.get(id)) ?? Promise.reject(notFound(`meter "${id}"`));

  /**
   * Maps submitted names to vocabulary ids of the meter's driver and the right
   * family, naming every bad field. A meter without a driver (a pushed one)
   * takes any vocabulary id.
   */
  const canonical = (driverId: string | undefined, family: MeasurementFamily, values: Record<string, number>, path: string, problems: ErrorDetail[]) => {
    const driver = driverId === undefined ? undefined : host.drivers.get(driverId);
    const out: Record<string, number> = {};
    for (const [name, v] of Object.entries(values)) {
      const reg = driver?.resolve(name);
      const id = reg?.measurement.id ?? (getMeasurement(name) ? name : undefined);
      if (!id || (driverId !== undefined && !reg)) problems.push({ path: `${path}/values/${name}`, message: driverId === undefined ? 'is not a measurement id of the vocabulary' : `is not a measurement of driver ${driverId}` });
      else if (getMeasurement(id)!.family !== family) problems.push({ path: `${path}/values/${name}`, message: `is ${family === 'power' ? 'a counter: submit it to energy/' : 'an instantaneous value: submit it to power/'}` });
      else if (!Number.isFinite(v)) problems.push({ path: `${path}/values/${name}`, message: 'must be a finite number' });
      else out[id] = v;
    }
    return out;
  };

  const measurementList = (s: string | undefined) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : undefined);
  const range = (q: { from?: string; to?: string }, defaultSpan: number) => {
    const to = q.to !== undefined ? parseTime(q.to, '?to') : Date.now();
    const from = q.from !== undefined ? parseTime(q.from, '?from') : to - defaultSpan;
    if (from >= to) throw badRequest('?from', 'must be before to');
    if (to - from > MAX_RANGE_MS) throw badRequest('?from', 'the range may span at most 5 years');
    return { from, to };
  };

  const routes: RouteSpec[] = [];
  for (const family of ['power', 'energy'] as const) {
    routes.push(
      {
        method: 'post', path: `/api/meters/:id/${family}/`, tag: 'readings', access: 'ingest', body: submitBody, status: 201,
        summary: `Submit one ${family} reading or a batch; idempotent on (meter, timestamp)`,
        async handler({ params, body, req }) {
          const meter = await meterOf(params['id']!);
          // A collector's uplink says so; any other submission is a push.
          const source = req.headers['x-meterhub-source'] === 'uplink' ? 'uplink' : 'push';
          const list = (Array.isArray(body) ? body : [body]) as Array<{ timestamp: string | number; values: Record<string, number> }>;
          const problems: ErrorDetail[] = [];
          const readings = list.map((r, i) => {
            const path = Array.isArray(body) ? `/${i}` : '';
            let ts = 0;
            try {
              ts = parseTime(r.timestamp, `${path}/timestamp`);
            } catch (err) {
              problems.push(...(err as MeterhubError).details);
            }
            return { meterId: meter.id, ts, values: canonical(meter.driver, family, r.values, path, problems), source };
          });
          if (problems.length) throw new MeterhubError('METERHUB_ERR_VALIDATION', 'the readings are not valid', { details: problems.slice(0, 100) });
          // The one door: published live, latest values updated, stored; resolves once committed or spooled.
          const { spooled } = await host.readings.submit(readings);
          return { accepted: readings.length, spooled };
        },
      },
      {
        method: 'get', path: `/api/meters/:id/${family}/latest/`, tag: 'readings', access: 'read',
        summary: `The newest ${family} values of a meter`,
        async handler({ params }) {
          const meter = await meterOf(params['id']!);
          const latest = host.storage.latest(meter.id, family);
          if (!latest) throw notFound(`${family} reading of meter "${meter.id}" yet`);
          return { meter: meter.id, timestamp: iso(latest.ts), values: latest.values };
        },
      },
      {
        method: 'get', path: `/api/meters/:id/${family}/history/`, tag: 'readings', access: 'read', query: historyQuery,
        summary: `${family} history over a time range, raw or rolled up; pages by cursor`,
        async handler({ params, query, req }) {
          const meter = await meterOf(params['id']!);
          const q = query as { from: string; to: string; resolution: 'auto'; measurements?: string; points: number; limit: number; cursor?: string };
          const { from, to } = range(q, 86_400_000);
          const start = q.cursor !== undefined ? Math.max(from, parseTime(q.cursor, '?cursor')) : from;
          const measurements = measurementList(q.measurements);
          for (const [i, m] of (measurements ?? []).entries()) if (!getMeasurement(m)) throw badRequest(`?measurements/${i}`, `"${m}" is not a measurement`);
          const result = await host.storage.history(meter.id, { family, from: start, to, resolution: q.resolution, points: q.points, ...(measurements ? { measurements } : {}) });
          const points = result.points.slice(0, q.limit);
          const more = result.points.length > q.limit;
          const next = more ? `${req.baseUrl}${req.path}?${new URLSearchParams({ ...req.query as Record<string, string>, cursor: String(result.points[q.limit]!.ts) })}` : null;
          return {
            meter: meter.id, family, resolution: result.resolution, from: iso(from), to: iso(to), count: points.length, next, truncated: result.truncated,
            results: points.map((p) => ({ timestamp: iso(p.ts), ...p, ts: undefined })),
          };
        },
      },
    );
  }
  routes.push({
    method: 'get', path: '/api/meters/:id/energy/consumption/', tag: 'readings', access: 'read', query: consumptionQuery,
    summary: 'Consumption per local day, week or month (DST-correct), from counter deltas',
    async handler({ params, query }) {
      const meter = await meterOf(params['id']!);
      const q = query as { period: 'day' | 'week' | 'month'; tz: string; from?: string; to?: string; measurements?: string };
      const { from, to } = range(q, 31 * 86_400_000);
      const measurements = measurementList(q.measurements);
      const periods = await host.storage.consumption(meter.id, { period: q.period, tz: q.tz, from, to, ...(measurements ? { measurements } : {}) });
      return { meter: meter.id, period: q.period, tz: q.tz, results: periods.map((p) => ({ start: p.start, end: p.end, values: p.values })) };
    },
  });
  return routes;
}
