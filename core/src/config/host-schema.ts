/**
 * The host's part of the configuration schema. The full schema is composed at
 * start from this part, the ids of the loaded drivers and every plugin's
 * `configSchema` (see compose-schema.ts).
 */
import { TARIFFS_SECTION_SCHEMA } from '../tariffs/tariff-schema.js';

const timingProps = {
  responseTimeoutMs: { type: 'integer', minimum: 10, maximum: 60000, description: 'Defaults to the slowest driver on the bus.' },
  interRequestDelayMs: { type: 'integer', minimum: 0, maximum: 10000, description: 'Silence between a response and the next request.' },
  unitSwitchDelayMs: { type: 'integer', minimum: 0, maximum: 10000, description: 'Extra pause before addressing another unit id.' },
  afterConnectDelayMs: { type: 'integer', minimum: 0, maximum: 10000, default: 0, description: 'Pause after (re)connecting, for gateways that need to settle.' },
  retries: { type: 'integer', minimum: 0, maximum: 5, default: 1 },
  probeTimeoutMs: {
    type: 'integer', minimum: 10, maximum: 60000, default: 200,
    description: 'Timeout of a probe of an offline meter (capped at responseTimeoutMs). Probes run only when the bus has that much slack before the next poll is due.',
  },
};

/**
 * A bus: the host's own properties (id, kind, timing). The transport kinds and
 * their connection properties (`host`, `port`, `path`, `baud` …) come from the
 * loaded transport plugins (see compose-schema.ts).
 */
export const BUS_SCHEMA = {
  type: 'object',
  required: ['id', 'transport'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' },
    transport: { type: 'string', description: 'A transport kind of a loaded transport plugin.' },
    ...timingProps,
  },
} as const;

/**
 * A meter. With a `bus` it is polled (`driver` and `unitId` required); without
 * one (or with `"source": "push"`) it is pushed: its readings are submitted
 * over REST, by a collector's uplink or by a plugin, and its state follows
 * their arrivals. The REST API may leave `id` out (it is made from the name).
 */
export const METER_SCHEMA = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$', description: 'Stable key: history is stored under it.' },
    name: { type: 'string', maxLength: 200 },
    source: {
      enum: ['poll', 'push', 'config', 'api'],
      description: 'push: readings are submitted, there is no bus; poll: read over `bus`. Only tells how a meter is created: a meter is pushed exactly when it has no bus. (`config`/`api`, as listed meters show where a meter is managed, are accepted and ignored.)',
    },
    driver: { type: 'string', description: 'A loaded driver id (`meterhub drivers` lists them). Optional for pushed meters: without one any vocabulary measurement is accepted.' },
    bus: { type: 'string', description: 'The id of a bus in `buses`; absent for a pushed meter.' },
    unitId: { type: 'integer', minimum: 1, maximum: 247 },
    expectedIntervalMs: { type: 'integer', minimum: 100, description: 'Pushed meters: expected time between readings; the meter turns stale after 3× it.' },
    staleAfterMs: { type: 'integer', minimum: 100, description: 'Pushed meters: silence after which the meter is stale (default 3× expectedIntervalMs, else pushedMeters.staleAfterMs).' },
    enabled: { type: 'boolean', default: true },
    measurements: {
      type: 'array',
      items: { type: 'string' },
      uniqueItems: true,
      description: 'Measurement ids or old meterlist.json parameter names; empty or absent selects all of the driver.',
    },
    intervals: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        instantMs: { type: 'integer', minimum: 100, default: 1000, description: 'Poll period of instantaneous values.' },
        counterMs: { type: 'integer', minimum: 100, default: 60000, description: 'Poll period of energy counters.' },
      },
    },
    requestMode: {
      enum: ['coalesce', 'per-register'],
      default: 'coalesce',
      description: 'per-register: one request per value, for devices that refuse merged reads.',
    },
    metadata: { type: 'object' },
  },
  allOf: [
    { if: { required: ['bus'] }, then: { required: ['driver', 'unitId'], properties: { source: { not: { const: 'push' } } } } },
    { if: { properties: { source: { const: 'poll' } }, required: ['source'] }, then: { required: ['bus'] } },
  ],
} as const;

/** METER_SCHEMA for creation over the API: the id may be left out (it is made from the name). */
export const NEW_METER_SCHEMA = { ...METER_SCHEMA, required: [] as string[] };

/** The host's own settings. `plugins` is filled in per loaded plugin at composition. */
export const HOST_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://meterhub.dev/schemas/meterhub.schema.json',
  title: 'meterhub configuration',
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string', default: 'meterhub', description: 'Instance name (the old Logger_ID).' },
    dataDir: { type: 'string', default: './data', description: 'Databases, plugin data and installed plugins; relative to the config file.' },
    debug: { type: 'boolean', default: false, description: 'Error details in HTTP responses (DEBUG).' },
    demo: {
      type: 'boolean',
      default: false,
      description: 'Serve a simulated SDM230 and SDM630 on loopback and poll them, for a first look without hardware.',
    },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        level: { enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], default: 'info' },
        pretty: { type: 'boolean', description: 'Human-readable logs; default when stdout is a terminal.' },
      },
    },
    http: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8000 },
        host: { type: 'string', default: '127.0.0.1', description: 'Listen address; 0.0.0.0 to serve the local network.' },
        allowedHosts: { type: 'array', items: { type: 'string' }, default: [], description: 'Accepted Host headers (ALLOWED_HOSTS); empty accepts any.' },
        corsAllowedOrigins: { type: 'array', items: { type: 'string' }, default: [], description: 'CORS_ALLOWED_ORIGINS.' },
        trustProxy: {
          type: ['boolean', 'integer', 'array'],
          default: false,
          minimum: 1,
          maximum: 32,
          minItems: 1,
          items: { type: 'string', minLength: 1 },
          description: 'Reverse proxies whose X-Forwarded-For, -Proto and -Host are believed (METERHUB_TRUST_PROXY): their addresses or subnets (["127.0.0.1"], ["loopback"], ["172.16.0.0/12"]) or the number of proxies in front (1). false: the headers are ignored and the client is the socket\'s peer.',
        },
        basePath: {
          type: 'string',
          pattern: '^(/[A-Za-z0-9._~-]+)*/?$',
          default: '/',
          description: 'Path prefix everything is served under (METERHUB_BASE_PATH), e.g. /meterhub/ behind a proxy that forwards that sub-path unchanged; requests outside it get 404.',
        },
      },
    },
    auth: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        secretKey: { type: 'string', minLength: 16, description: 'Signs tokens (SECRET_KEY). Secret: never logged.' },
        accessTokenLifetimeMinutes: { type: 'integer', minimum: 1, default: 60 },
        refreshTokenLifetimeMinutes: { type: 'integer', minimum: 1, default: 10080 },
      },
    },
    redis: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      description: 'Shared Redis (REDIS_URL): live streams fan out across host instances through it.',
      properties: {
        url: { type: 'string', pattern: '^rediss?://', description: 'redis://host:6379/0. Secret: never logged.' },
      },
    },
    storage: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        client: { enum: ['sqlite', 'postgres'], default: 'sqlite' },
        filename: { type: 'string', description: 'SQLite file; defaults to <dataDir>/meterhub.db.' },
        url: { type: 'string', description: 'PostgreSQL connection string (DATABASE_URL). Secret: never logged.' },
        connection: {
          type: 'object',
          additionalProperties: false,
          properties: {
            host: { type: 'string' },
            port: { type: 'integer', minimum: 1, maximum: 65535 },
            database: { type: 'string' },
            user: { type: 'string' },
            password: { type: 'string' },
          },
        },
        retention: {
          type: 'object',
          additionalProperties: false,
          default: {},
          description: 'Days to keep per resolution; null keeps forever.',
          properties: {
            rawDays: { type: ['integer', 'null'], minimum: 1, default: 30 },
            minuteDays: { type: ['integer', 'null'], minimum: 1, default: 365 },
            hourDays: { type: ['integer', 'null'], minimum: 1, default: null },
            dayDays: { type: ['integer', 'null'], minimum: 1, default: null },
          },
        },
        ingest: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            maxBatch: { type: 'integer', minimum: 1, maximum: 100000, default: 2000, description: 'Readings per transaction.' },
            maxDelayMs: { type: 'integer', minimum: 1, maximum: 60000, default: 250, description: 'Longest a reading waits for its batch.' },
            maxPending: { type: 'integer', minimum: 1, default: 50000, description: 'Readings in memory before producers wait.' },
          },
        },
        keepHistory: {
          type: 'boolean', default: true,
          description: 'false: a pure edge collector. Readings are not stored here (only the latest values, in memory); the uplink plugin forwards them. Meters and accounts still live in the database.',
        },
        spoolMaxRows: {
          type: 'integer', minimum: 1000, default: 2000000,
          description: 'Readings the on-disk spool holds while the database is unreachable; beyond it the oldest are dropped.',
        },
      },
    },
    pushedMeters: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        staleAfterMs: { type: 'integer', minimum: 100, default: 300000, description: 'Silence after which a pushed meter without expectedIntervalMs or staleAfterMs of its own is stale.' },
      },
    },
    tariffs: TARIFFS_SECTION_SCHEMA,
    buses: { type: 'array', default: [], items: BUS_SCHEMA },
    meters: { type: 'array', default: [], items: METER_SCHEMA },
    pluginPackages: {
      type: 'array',
      default: [],
      items: { type: 'string' },
      description: 'Extra plugin or driver packages to load: npm names (from <dataDir>/node_modules) or paths.',
    },
    discovery: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        allow: { type: 'array', items: { type: 'string' }, description: 'If set, only these package names load.' },
        deny: { type: 'array', items: { type: 'string' }, default: [], description: 'Package names never loaded.' },
      },
    },
    lifecycle: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        loadTimeoutMs: { type: 'integer', minimum: 1, default: 10000 },
        startTimeoutMs: { type: 'integer', minimum: 1, default: 15000 },
        stopTimeoutMs: { type: 'integer', minimum: 1, default: 5000 },
      },
    },
    plugins: { type: 'object', default: {} },
  },
} as const;
