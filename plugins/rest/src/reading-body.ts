import { getMeasurement, legacyApiFieldMeasurement, MeterhubError, parseTimestamp, type CompiledDriver, type ErrorDetail, type Reading } from '@meterhub/sdk';

export type Family = 'power' | 'energy';

/** The most readings one submission may carry. */
export const MAX_BATCH = 5000;

const timestamp = { anyOf: [{ type: 'string', maxLength: 40 }, { type: 'integer' }], description: 'ISO 8601 (UTC unless it has an offset) or epoch milliseconds' };

/**
 * One reading, in either shape: `{timestamp, values: {voltageL1: 231.2}}`, or
 * flat as the old logger posts it, `{timestamp, voltage: 231.2, power: 950}`.
 */
export const readingSchema = {
  type: 'object', required: ['timestamp'], maxProperties: 201,
  properties: {
    timestamp,
    values: { type: 'object', minProperties: 1, maxProperties: 200, additionalProperties: { type: 'number' } },
  },
  additionalProperties: { type: 'number' },
};

/** What `POST …/power/` and `…/energy/` take: one reading or an array of them. */
export const submitBodySchema = { anyOf: [readingSchema, { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: readingSchema }] };

type Submitted = { timestamp: string | number; values?: Record<string, number> } & Record<string, unknown>;

/**
 * The measurement a submitted name means on this driver: a vocabulary id, a
 * name the driver knows (its labels and the old parameter names), or a field
 * of the old API (`voltage`, `import_energy`; SDK table LEGACY_API_FIELDS).
 * Only measurements the driver reads are accepted; a meter without a driver
 * takes any vocabulary id, and old API fields as on a single-phase meter.
 */
function measurementFor(name: string, driver: CompiledDriver | undefined, hasDriver: boolean): string | undefined {
  if (!hasDriver) return getMeasurement(name) ? name : legacyApiFieldMeasurement(name, undefined);
  const direct = driver?.resolve(name);
  if (direct) return direct.measurement.id;
  const legacy = legacyApiFieldMeasurement(name, driver);
  return legacy !== undefined ? driver?.resolve(legacy)?.measurement.id : undefined;
}

/** Python's `str(datetime)` has a space where ISO 8601 has a `T`; the old logger sent both. */
const isoTime = (t: unknown) => (typeof t === 'string' ? t.replace(/^(\d{4}-\d{2}-\d{2}) (\d)/, '$1T$2') : t);

/**
 * Turns a validated submission body into readings for the meter, in
 * vocabulary ids and the right family, or throws one 400 naming every field
 * at fault (at most 100); `at` prefixes the paths of a body part (a group of
 * a bulk submission). Each reading carries `source` (push, or uplink for a
 * collector's). The handler hands the result to the ingest path.
 */
export function readingsFromBody(body: unknown, meter: { id: string; driver?: string | undefined }, driver: CompiledDriver | undefined, family: Family, source: Reading['source'], at = ''): Reading[] {
  const batch = Array.isArray(body);
  const list = (batch ? body : [body]) as Submitted[];
  const problems: ErrorDetail[] = [];
  const readings = list.map((r, i): Reading => {
    const path = batch ? `${at}/${i}` : at;
    const ts = parseTimestamp(isoTime(r.timestamp));
    if (ts === undefined) problems.push({ path: `${path}/timestamp`, message: 'must be an ISO 8601 time or epoch milliseconds' });
    const flat = Object.entries(r).filter(([k]) => k !== 'timestamp' && k !== 'values') as Array<[string, number]>;
    if (r.values !== undefined && flat.length) problems.push({ path: `${path}/${flat[0]![0]}`, message: 'give the values either in "values" or as flat fields, not both' });
    const entries = r.values !== undefined ? Object.entries(r.values).map(([k, v]) => [k, v, `${path}/values/${k}`] as const) : flat.map(([k, v]) => [k, v, `${path}/${k}`] as const);
    if (!entries.length) problems.push({ path: path || '/', message: 'has no values' });
    const values: Record<string, number> = {};
    for (const [name, v, at] of entries) {
      const id = measurementFor(name, driver, meter.driver !== undefined);
      if (!id) problems.push({ path: at, message: meter.driver === undefined ? 'is not a measurement id of the vocabulary or an old API field' : `is not a measurement of driver ${meter.driver}` });
      else if (getMeasurement(id)!.family !== family) problems.push({ path: at, message: `is ${family === 'power' ? 'a counter: submit it to energy/' : 'an instantaneous value: submit it to power/'}` });
      else if (!Number.isFinite(v)) problems.push({ path: at, message: 'must be a finite number' });
      else values[id] = v;
    }
    return { meterId: meter.id, ts: ts ?? 0, values, source };
  });
  if (problems.length) throw new MeterhubError('METERHUB_ERR_VALIDATION', 'the readings are not valid', { details: problems.slice(0, 100) });
  return readings;
}
