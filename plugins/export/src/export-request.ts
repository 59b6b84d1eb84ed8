import { ajvErrorsToDetails, compileSchema, getMeasurement, MeterhubError, parseTimestamp, type ErrorDetail, type HostApi, type MeasurementFamily } from '@meterhub/sdk';
import { ZoneClock } from './zone-clock.js';

export type Resolution = 'raw' | '1m' | '1h' | '1d';
export type Period = 'day' | 'week' | 'month';

/** A validated export: what to read, and how to write it. */
export interface ExportRequest {
  format: 'csv' | 'xlsx';
  meters: string[];
  family: MeasurementFamily;
  /** Vocabulary ids; absent: every measurement of the family the meters' drivers have. */
  measurements?: string[];
  from: number;
  to: number;
  resolution: Resolution;
  /** Consumption per local period (energy only) instead of a time series. */
  period?: Period;
  tz: string;
  csv: { delimiter: string; decimal: '.' | ','; bom: boolean };
}

/** The longest range per resolution, in days (documented in docs/export.md). */
export interface RangeLimits {
  raw: number;
  '1m': number;
  '1h': number;
  '1d': number;
}

/** The query `/api/export/` takes; the OpenAPI document's parameters are made from it. */
export const EXPORT_QUERY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['meters'],
  properties: {
    format: { enum: ['csv', 'xlsx'], default: 'csv' },
    meters: { type: 'string', minLength: 1, maxLength: 4000, description: 'comma-separated meter ids, or *' },
    family: { enum: ['power', 'energy'], default: 'power' },
    measurements: { type: 'string', maxLength: 4000 },
    from: { type: 'string', maxLength: 40 },
    to: { type: 'string', maxLength: 40 },
    resolution: { enum: ['raw', '1m', '1h', '1d'], default: 'raw' },
    period: { enum: ['day', 'week', 'month'] },
    tz: { type: 'string', maxLength: 64, default: 'UTC' },
    delimiter: { enum: [',', ';', 'tab'], default: ',' },
    decimal: { enum: ['.', ','], default: '.' },
    bom: { type: 'boolean', default: false },
  },
} as const;
const validateQuery = compileSchema(EXPORT_QUERY_SCHEMA, { coerceTypes: true, useDefaults: true });

const DAY = 86_400_000;

function bad(path: string, message: string): MeterhubError {
  return new MeterhubError('METERHUB_ERR_VALIDATION', `${path.slice(1)}: ${message}`, { details: [{ path, message }] });
}

/** A date or a time without offset is a wall-clock time in `tz`: `to=2026-11-01` ends at local midnight. */
function parseTime(value: unknown, path: string, tz: string): number {
  const t = parseTimestamp(value, tz);
  if (t === undefined) throw bad(path, 'must be an ISO 8601 time or epoch milliseconds');
  return t;
}

const list = (s: unknown): string[] => (typeof s === 'string' ? s.split(',').map((x) => x.trim()).filter(Boolean) : []);

/**
 * Checks an export query (from the URL or the CLI) and resolves its meters:
 * every problem comes back at once, each with the parameter at fault.
 */
export async function parseExportRequest(query: Record<string, unknown>, host: Pick<HostApi, 'meters'>, limits: RangeLimits, now = Date.now()): Promise<ExportRequest> {
  // Parameters the export does not know (a cache-buster `?_=123`) are ignored, as the REST API ignores them.
  const q = Object.fromEntries(Object.entries(query).filter(([k]) => Object.hasOwn(EXPORT_QUERY_SCHEMA.properties, k)));
  if (!validateQuery(q)) {
    const details = ajvErrorsToDetails(validateQuery.errors);
    throw new MeterhubError('METERHUB_ERR_VALIDATION', `invalid export query: ${details.map((d) => `${d.path.slice(1) || 'query'} ${d.message}`).join('; ')}`, { details });
  }
  const problems: ErrorDetail[] = [];
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      problems.push(...(err as MeterhubError).details);
      return undefined;
    }
  };
  const tz = q['tz'] as string;
  const zoneKnown = ZoneClock.check(tz);
  if (!zoneKnown) problems.push({ path: '/tz', message: `unknown time zone "${tz}" (use an IANA name such as Europe/Berlin)` });
  const boundZone = zoneKnown ? tz : 'UTC';
  const to = q['to'] === undefined ? now : attempt(() => parseTime(q['to'], '/to', boundZone));
  const from = q['from'] === undefined ? (to ?? now) - DAY : attempt(() => parseTime(q['from'], '/from', boundZone));
  const family = q['family'] as MeasurementFamily;
  const resolution = q['resolution'] as Resolution;
  const period = q['period'] as Period | undefined;
  if (from !== undefined && to !== undefined) {
    if (from >= to) problems.push({ path: '/from', message: 'must be before to' });
    const days = (to - from) / DAY;
    const limit = limits[period ? '1d' : resolution];
    if (days > limit) problems.push({ path: '/to', message: `the range spans ${Math.ceil(days)} days; at most ${limit} days at ${period ? `period=${period}` : `resolution=${resolution}`} (choose a coarser resolution or a shorter range)` });
  }
  if (period && family !== 'energy') problems.push({ path: '/period', message: 'consumption per period needs family=energy' });
  const measurements = list(q['measurements']);
  measurements.forEach((m, i) => {
    const def = getMeasurement(m);
    if (!def) problems.push({ path: `/measurements/${i}`, message: `unknown measurement "${m}"` });
    else if (def.family !== family) problems.push({ path: `/measurements/${i}`, message: `"${m}" is in family ${def.family}, not ${family}` });
  });
  const delimiter = q['delimiter'] === 'tab' ? '\t' : (q['delimiter'] as string);
  const decimal = q['decimal'] as '.' | ',';
  if (decimal === ',' && delimiter === ',') problems.push({ path: '/decimal', message: 'a comma decimal needs delimiter=; or delimiter=tab' });

  const known = await host.meters.list();
  let meters = list(q['meters']);
  if (meters.length === 1 && meters[0] === '*') meters = known.map((m) => m.id);
  else {
    const ids = new Set(known.map((m) => m.id));
    meters.forEach((id, i) => {
      if (!ids.has(id)) problems.push({ path: `/meters/${i}`, message: `no meter "${id}"` });
    });
  }
  if (meters.length === 0) problems.push({ path: '/meters', message: 'no meters to export' });
  if (problems.length) throw new MeterhubError('METERHUB_ERR_VALIDATION', problems.map((p) => `${p.path.slice(1)}: ${p.message}`).join('; '), { details: problems });
  return {
    format: q['format'] as 'csv' | 'xlsx', meters: [...new Set(meters)], family, ...(measurements.length ? { measurements } : {}),
    from: from!, to: to!, resolution, ...(period ? { period } : {}), tz,
    csv: { delimiter, decimal, bom: q['bom'] as boolean },
  };
}
