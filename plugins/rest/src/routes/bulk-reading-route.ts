import { MeterhubError, type HostApi, type Reading } from '@meterhub/sdk';
import type { Request } from 'express';
import { MAX_BATCH, readingsFromBody, readingSchema, type Family } from '../reading-body.js';
import { validate } from '../request-validation.js';
import { bulkResultSchema } from '../response-schemas.js';
import { badRequest, type RouteSpec } from '../route-table.js';

/** The most groups (as many as an uplink batch may have rows), and the most readings over all groups, one bulk submission may carry. */
export const MAX_GROUPS = MAX_BATCH;
export const MAX_BULK_READINGS = 20_000;

/** One meter's readings of one family. */
const groupSchema = {
  type: 'object', additionalProperties: false, required: ['meter', 'family', 'readings'],
  properties: {
    meter: { type: 'string', minLength: 1, maxLength: 200 },
    family: { enum: ['power', 'energy'] },
    readings: { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: readingSchema, description: 'as `POST /api/meters/{id}/{family}/` takes them' },
  },
};
const envelope = (group: object) => ({
  type: 'object', additionalProperties: false, required: ['groups'],
  properties: { groups: { type: 'array', minItems: 1, maxItems: MAX_GROUPS, items: group } },
});

type Group = { meter: string; family: Family; readings: unknown[] };
type Meter = NonNullable<Awaited<ReturnType<HostApi['meters']['get']>>>;
interface GroupResult {
  meter: string | null;
  family: Family | null;
  status: 'stored' | 'unknown_meter' | 'invalid';
  count: number;
  errors?: Array<{ path: string; message: string }>;
}

/** A collector's uplink says so; any other submission is a push. */
export const sourceOf = (req: Request) => (req.headers['x-meterhub-source'] === 'uplink' ? 'uplink' as const : 'push' as const);

/**
 * `POST /api/readings/`: readings of many meters and both families in one
 * request, what a collector's uplink sends. Each group is validated and its
 * meter looked up on its own, so an unknown meter or a bad group refuses only
 * itself; the groups that pass go through the one reading pipeline in one
 * submission. Only a body that is no envelope at all is a 400.
 */
export function bulkReadingRoute(host: HostApi): RouteSpec {
  return {
    method: 'post', path: '/api/readings/', tag: 'readings', access: 'ingest',
    // The envelope only: each group is validated against groupSchema by the handler (see documentedBody).
    body: envelope({ type: 'object' }), documentedBody: envelope(groupSchema),
    status: 201, response: bulkResultSchema, alsoAnswers: { 202: bulkResultSchema, 207: bulkResultSchema },
    summary: 'Submit readings of many meters and both families at once, grouped by meter and family; answers each group\'s outcome: 201 all stored, 202 all taken but some spooled, 207 some group not stored; idempotent on (meter, timestamp)',
    async handler({ body, req, setStatus }) {
      const groups = (body as { groups: Array<Record<string, unknown>> }).groups;
      const total = groups.reduce((n, g) => n + (Array.isArray(g['readings']) ? g['readings'].length : 0), 0);
      if (total > MAX_BULK_READINGS) throw badRequest('/groups', `carries ${total} readings; at most ${MAX_BULK_READINGS} a request`);
      const source = sourceOf(req);
      // Each meter looked up once per request, however many groups name it.
      const meters = new Map<string, Promise<Meter | undefined>>();
      const meterOf = (id: string) => meters.get(id) ?? meters.set(id, host.meters.get(id)).get(id)!;
      const results: GroupResult[] = [];
      const taken: Array<{ result: GroupResult; readings: Reading[] }> = [];
      for (const [i, raw] of groups.entries()) {
        const result: GroupResult = {
          meter: typeof raw['meter'] === 'string' ? raw['meter'] : null,
          family: raw['family'] === 'power' || raw['family'] === 'energy' ? raw['family'] : null,
          status: 'stored', count: Array.isArray(raw['readings']) ? raw['readings'].length : 0,
        };
        results.push(result);
        try {
          const group = validate<Group>(groupSchema, raw, 'body', `/groups/${i}`);
          const meter = await meterOf(group.meter);
          if (!meter) {
            result.status = 'unknown_meter';
            continue;
          }
          const driver = meter.driver === undefined ? undefined : host.drivers.get(meter.driver);
          const readings = readingsFromBody(group.readings, meter, driver, group.family, source, `/groups/${i}/readings`);
          taken.push({ result, readings });
        } catch (err) {
          if (!(err instanceof MeterhubError) || err.code !== 'METERHUB_ERR_VALIDATION') throw err;
          Object.assign(result, { status: 'invalid', errors: err.details.slice(0, 20).map((d) => ({ path: d.path, message: d.message })) });
        }
      }
      const spooled = await submit(host, taken);
      const accepted = taken.reduce((n, t) => n + (t.result.status === 'stored' ? t.readings.length : 0), 0);
      if (results.some((r) => r.status !== 'stored')) setStatus(207);
      else if (spooled > 0) setStatus(202);
      return { accepted, spooled, results };
    },
  };
}

/**
 * Hands the groups that passed to the pipeline in one submission. A meter
 * removed since it was looked up rejects the whole submission before anything
 * is taken: its groups are then answered `unknown_meter` and the rest sent again.
 */
async function submit(host: HostApi, taken: Array<{ result: GroupResult; readings: Reading[] }>): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const live = taken.filter((t) => t.result.status === 'stored');
    if (live.length === 0) return 0;
    try {
      return (await host.readings.submit(live.flatMap((t) => t.readings))).spooled;
    } catch (err) {
      if (attempt > 0 || !(err instanceof MeterhubError) || err.code !== 'METERHUB_ERR_HTTP_NOT_FOUND') throw err;
      for (const t of live) if (!(await host.meters.get(t.result.meter!))) t.result.status = 'unknown_meter';
    }
  }
}
