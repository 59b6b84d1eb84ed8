/**
 * JSON Schemas of what the routes answer: the OpenAPI document shows them and
 * the REST test suite checks every answer against them, so the two cannot
 * drift. Objects stay open (extra fields allowed) so adding a field is not a
 * breaking change; the fields listed are required where the code always sends them.
 */

const nullable = (schema: object) => ({ anyOf: [schema, { type: 'null' }] });
const isoTime = { type: 'string', description: 'ISO 8601' };
const numberMap = { type: 'object', additionalProperties: { type: 'number' } };

export const tokenPairSchema = { type: 'object', required: ['access', 'refresh'], properties: { access: { type: 'string' }, refresh: { type: 'string' } } };
export const accessTokenSchema = { type: 'object', required: ['access'], properties: { access: { type: 'string' }, refresh: { type: 'string' } } };

/** A DRF-style page of `item`. */
export function pageSchema(item: object): object {
  return {
    type: 'object', required: ['count', 'next', 'previous', 'results'],
    properties: { count: { type: 'integer', minimum: 0 }, next: nullable({ type: 'string' }), previous: nullable({ type: 'string' }), results: { type: 'array', items: item } },
  };
}

/** A meter as the API answers it: the registry's fields plus its live status. */
export function meterSchema(registry: Record<string, unknown>): object {
  return {
    type: 'object', required: ['id', 'enabled', 'source', 'status'],
    // A polled meter has a bus, a driver and a unit id; a pushed one (no bus) may have neither.
    if: { required: ['bus'] }, then: { required: ['driver', 'unitId'] },
    properties: {
      ...(registry['properties'] as Record<string, object> | undefined),
      source: { enum: ['config', 'api'] },
      connection: { type: 'object' },
      status: {
        type: 'object', required: ['online', 'state', 'lastSeen', 'error'],
        properties: { online: { type: 'boolean' }, state: { type: 'string' }, lastSeen: nullable(isoTime), error: nullable({ type: 'string' }) },
      },
    },
  };
}

export const userSchema = {
  type: 'object', required: ['id', 'username', 'role', 'tokenVersion', 'createdAt'],
  properties: { id: { type: 'integer' }, username: { type: 'string' }, role: { enum: ['admin', 'viewer'] }, tokenVersion: { type: 'integer' }, createdAt: isoTime },
};

export const apiKeySchema = {
  type: 'object', required: ['id', 'name', 'prefix', 'scopes', 'createdBy', 'createdAt', 'lastUsedAt', 'revokedAt'],
  properties: {
    id: { type: 'integer' }, name: { type: 'string' }, prefix: { type: 'string' },
    scopes: { type: 'array', items: { enum: ['read', 'ingest', 'meters:write'] } },
    createdBy: nullable({ type: 'integer' }), createdAt: isoTime, lastUsedAt: nullable(isoTime), revokedAt: nullable(isoTime),
  },
};

export const newApiKeySchema = { ...apiKeySchema, required: [...apiKeySchema.required, 'key'], properties: { ...apiKeySchema.properties, key: { type: 'string', description: 'the key itself: shown in this answer only' } } };

export const submitResultSchema = {
  type: 'object', required: ['accepted', 'spooled'],
  properties: { accepted: { type: 'integer', minimum: 0 }, spooled: { type: 'integer', minimum: 0, description: 'readings kept on disk while the database is unreachable' } },
};

/** The answer of `POST /api/readings/`: one result per group, in the order of the groups. */
export const bulkResultSchema = {
  type: 'object', required: ['accepted', 'spooled', 'results'],
  properties: {
    accepted: { type: 'integer', minimum: 0, description: 'readings taken, summed over the groups answered "stored"' },
    spooled: submitResultSchema.properties.spooled,
    results: {
      type: 'array',
      items: {
        type: 'object', required: ['meter', 'family', 'status', 'count'],
        properties: {
          meter: nullable({ type: 'string' }), family: nullable({ enum: ['power', 'energy'] }),
          status: { enum: ['stored', 'unknown_meter', 'invalid'], description: '"stored": taken (committed, or spooled as `spooled` says); "unknown_meter": no such meter, nothing taken; "invalid": nothing of this group taken, `errors` name each field' },
          count: { type: 'integer', minimum: 0, description: 'readings in the group' },
          errors: { type: 'array', items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' }, hint: { type: 'string' } } } },
        },
      },
    },
  },
};

export const latestSchema = { type: 'object', required: ['meter', 'timestamp', 'values'], properties: { meter: { type: 'string' }, timestamp: isoTime, values: numberMap } };

export const historySchema = {
  type: 'object', required: ['meter', 'family', 'resolution', 'from', 'to', 'count', 'next', 'results'],
  properties: {
    meter: { type: 'string' }, family: { enum: ['power', 'energy'] }, resolution: { type: 'string' }, from: isoTime, to: isoTime,
    count: { type: 'integer', minimum: 0 }, next: nullable({ type: 'string' }), truncated: { type: 'boolean' },
    results: { type: 'array', items: { type: 'object', required: ['timestamp', 'values'], properties: { timestamp: isoTime, values: numberMap, min: numberMap, max: numberMap, delta: numberMap } } },
  },
};

const periodCostSchema = {
  type: 'object', required: ['tariff', 'currency', 'importCost', 'exportCredit', 'standingCharge', 'net'],
  description: 'What the period cost under the meter\'s tariff, each figure rounded to the currency\'s minor unit (halves away from zero); net = importCost + standingCharge − exportCredit.',
  properties: {
    tariff: { type: 'string' }, currency: { type: 'string', description: 'ISO 4217' },
    importCost: { type: 'number' }, exportCredit: { type: 'number' }, standingCharge: { type: 'number' }, net: { type: 'number' },
  },
};

export const consumptionSchema = {
  type: 'object', required: ['meter', 'period', 'tz', 'results'],
  properties: {
    meter: { type: 'string' }, period: { enum: ['day', 'week', 'month'] }, tz: { type: 'string' },
    results: {
      type: 'array',
      items: {
        type: 'object', required: ['start', 'end', 'values'],
        properties: { start: { type: 'string' }, end: { type: 'string' }, partial: { type: 'boolean' }, values: numberMap, cost: { ...periodCostSchema, description: `${periodCostSchema.description} Present when the meter has a tariff.` } },
      },
    },
  },
};

const tariffWindowSchema = {
  type: 'object', required: ['days', 'from', 'to', 'pricePerKWh'],
  properties: { name: { type: 'string' }, days: { type: 'array', items: { type: 'string' } }, from: { type: 'string' }, to: { type: 'string' }, pricePerKWh: { type: 'number' } },
};

export const tariffSchema = {
  type: 'object', required: ['id', 'currency', 'minorUnitDigits', 'timeZone', 'versions', 'source'],
  properties: {
    id: { type: 'string' }, name: { type: 'string' }, currency: { type: 'string' }, minorUnitDigits: { type: 'integer' }, timeZone: { type: 'string' },
    source: { enum: ['config', 'api'], description: '`config`: declared in the config file, read-only here; `api`: made over the API, stored in the database' },
    versions: {
      type: 'array',
      items: {
        type: 'object', required: ['validFrom', 'windows', 'standingChargePerDay', 'feedInPerKWh'],
        properties: { validFrom: { type: 'string' }, windows: { type: 'array', items: tariffWindowSchema }, standingChargePerDay: { type: 'number' }, feedInPerKWh: { type: 'number' } },
      },
    },
  },
};

export const tariffListSchema = {
  type: 'object', required: ['meters', 'count', 'results'],
  properties: {
    default: { type: 'string', description: 'Tariff of every meter not in `meters`' },
    meters: { type: 'object', additionalProperties: { type: 'string' }, description: 'meter id → tariff id' },
    count: { type: 'integer' }, results: { type: 'array', items: tariffSchema },
  },
};

export const healthSchema = {
  type: 'object', required: ['status', 'database'],
  description: 'Anyone gets status and database.reachable; a token or key with read (or health.publicDetails) also the rest.',
  properties: {
    status: { enum: ['ok', 'unavailable'] },
    database: { type: 'object', required: ['reachable'], properties: { reachable: { type: 'boolean' }, engine: nullable({ type: 'string' }), spooled: { type: 'integer' } } },
    version: { type: 'string' }, uptimeSeconds: { type: 'number' },
    plugins: { type: 'array', items: { type: 'object', required: ['id', 'state'], properties: { id: { type: 'string' }, state: { type: 'string' } } } },
    uplink: { type: 'object' },
    buses: { type: 'array', items: { type: 'object', required: ['id', 'state'], properties: { id: { type: 'string' }, state: { type: 'string' }, connected: { type: 'boolean' } } } },
    meters: { type: 'array', items: { type: 'object', required: ['id', 'state'], properties: { id: { type: 'string' }, state: { type: 'string' }, lastSeen: nullable(isoTime) } } },
  },
};

export const openApiSchema = { type: 'object', required: ['openapi', 'info', 'paths'], properties: { openapi: { type: 'string' } } };

const latencySchema = {
  type: 'object', required: ['p50', 'p95', 'p99', 'samples'], description: 'milliseconds over the most recent requests; null before the first',
  properties: { p50: nullable({ type: 'number' }), p95: nullable({ type: 'number' }), p99: nullable({ type: 'number' }), samples: { type: 'integer', minimum: 0 } },
};
const lastErrorSchema = nullable({ type: 'object', required: ['message', 'at'], properties: { message: { type: 'string' }, at: isoTime } });

export const statusSchema = {
  type: 'object', required: ['version', 'uptimeSeconds', 'buses', 'storage', 'eventLoop', 'readings'],
  properties: {
    version: { type: 'string' }, uptimeSeconds: { type: 'number' },
    buses: {
      type: 'array',
      items: {
        type: 'object', required: ['id', 'transport', 'state', 'connected', 'requests', 'errors', 'reconnects', 'latencyMs', 'lastError'],
        properties: {
          id: { type: 'string' }, transport: { type: 'string' }, state: { enum: ['running', 'waiting-for-transport', 'error'] }, message: { type: 'string' },
          connected: { type: 'boolean' }, description: { type: 'string' }, requests: { type: 'integer', minimum: 0 },
          errors: {
            type: 'object', required: ['timeout', 'crc', 'exception', 'frame', 'connection'], description: 'failed requests by kind since start',
            properties: Object.fromEntries(['timeout', 'crc', 'exception', 'frame', 'connection'].map((k) => [k, { type: 'integer', minimum: 0 }])),
          },
          reconnects: { type: 'integer', minimum: 0 }, latencyMs: nullable(latencySchema), lastError: lastErrorSchema,
        },
      },
    },
    storage: nullable({
      type: 'object', required: ['engine', 'pending', 'stored', 'spooled', 'spoolDropped', 'lastError'],
      properties: {
        engine: { type: 'string' }, pending: { type: 'integer', minimum: 0, description: 'readings in the ingest queue, not yet written' },
        stored: { type: 'integer', minimum: 0, description: 'readings written since start' }, spooled: { type: 'integer', minimum: 0, description: 'readings on disk while the database is unreachable' },
        spoolDropped: { type: 'integer', minimum: 0 }, lastError: lastErrorSchema,
      },
    }),
    eventLoop: nullable({
      type: 'object', required: ['p50Ms', 'p99Ms', 'maxMs', 'windowSeconds', 'worstMs', 'worstAt'],
      properties: { p50Ms: { type: 'number' }, p99Ms: { type: 'number' }, maxMs: { type: 'number' }, windowSeconds: { type: 'number' }, worstMs: { type: 'number' }, worstAt: nullable(isoTime) },
    }),
    readings: { type: 'object', required: ['taken', 'replays'], properties: { taken: { type: 'integer', minimum: 0 }, replays: { type: 'integer', minimum: 0 } } },
  },
};

export const busListSchema = {
  type: 'array', items: { type: 'object', required: ['id', 'transport', 'running'], properties: { id: { type: 'string' }, transport: { type: 'string' }, running: { type: 'boolean' } } },
};

export const scanJobSchema = {
  type: 'object', required: ['id', 'bus', 'state', 'units', 'progress', 'found', 'configured', 'startedAt', 'finishedAt', 'error'],
  properties: {
    id: { type: 'string' }, bus: { type: 'string' }, state: { enum: ['running', 'done', 'cancelled', 'failed'] },
    units: { type: 'object', required: ['from', 'to'], properties: { from: { type: 'integer' }, to: { type: 'integer' } } },
    progress: {
      type: 'object', required: ['done', 'total', 'unitId', 'found'],
      properties: { done: { type: 'integer', minimum: 0 }, total: { type: 'integer', minimum: 1 }, unitId: { type: 'integer' }, found: { type: 'integer', minimum: 0 } },
    },
    found: {
      type: 'array',
      items: {
        type: 'object', required: ['unitId', 'driver', 'model', 'probes', 'ambiguous', 'alternatives', 'lookalikes'],
        properties: {
          unitId: { type: 'integer' }, driver: nullable({ type: 'string' }), model: nullable({ type: 'string' }), probes: numberMap, ambiguous: { type: 'boolean' },
          alternatives: { type: 'array', items: { type: 'object', required: ['driver', 'model'], properties: { driver: { type: 'string' }, model: { type: 'string' } } } },
          lookalikes: { type: 'array', items: { type: 'object', required: ['model'], properties: { model: { type: 'string' }, note: { type: 'string' } } } },
        },
      },
    },
    configured: { type: 'object', additionalProperties: { type: 'string' }, description: 'unit id -> id of the meter already configured there' },
    startedAt: isoTime, finishedAt: nullable(isoTime),
    error: nullable({ type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } }),
  },
};
