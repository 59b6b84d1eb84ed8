/**
 * The plugin's config schema, in a module of its own (named by
 * `meterhub.schema` in package.json): `meterhub validate` reads it without
 * loading the plugin; the plugin's factory returns the same objects.
 */
export const configSchema = {
  type: 'object',
  additionalProperties: false,
  dependentRequired: { url: ['key'] },
  properties: {
    url: {
      // `pattern` checks a single URL, `items` each URL of a list: a bad entry is reported at its own path (/url/1).
      type: ['string', 'array'], pattern: '^https?://', minItems: 1, uniqueItems: true, items: { type: 'string', pattern: '^https?://' },
      description: 'Base URL of the central meterhub, e.g. https://energy.example.org; or a list of central hosts that share one database, used as `strategy` says.',
    },
    strategy: {
      enum: ['failover', 'round-robin'], default: 'failover',
      description: 'With several URLs: "failover" sends to the first one that is up and goes back to it once it answers again; "round-robin" spreads batches over all that are up.',
    },
    key: { type: 'string', minLength: 20, description: 'API key with the "ingest" scope, made on the central host (`meterhub key create`); the same key for every URL (they share one database). Secret: never logged.' },
    caFile: { type: 'string', description: 'PEM file of a private CA to trust besides the system CAs, for every URL.' },
    meterMap: {
      type: 'object', default: {},
      additionalProperties: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' },
      description: 'Local meter id -> meter id on the central host, where they differ (two collectors with a meter "main" each).',
    },
    createMeters: {
      type: 'object', additionalProperties: false,
      description: 'Create meters the central host does not know (the key needs the "meters:write" scope), as pushed meters (no bus): `{}` turns it on.',
      properties: { bus: { type: 'string', description: 'Ignored (older versions created meters on this placeholder bus; the central host turns those into pushed meters).' } },
    },
    timeoutMs: { type: 'integer', minimum: 100, default: 10000 },
    batch: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        maxReadings: { type: 'integer', minimum: 1, maximum: 5000, default: 1000, description: 'Rows per request round.' },
        maxDelayMs: { type: 'integer', minimum: 10, default: 1000, description: 'Longest a reading waits for its batch to fill.' },
      },
    },
    outbox: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        maxReadings: { type: 'integer', minimum: 100, default: 2000000, description: 'Cap: beyond it the oldest instantaneous values are dropped; counters are kept.' },
        warnAtPercent: { type: 'integer', minimum: 1, maximum: 100, default: 80 },
      },
    },
    backoff: {
      type: 'object', additionalProperties: false, default: {},
      properties: { initialMs: { type: 'integer', minimum: 10, default: 1000 }, maxMs: { type: 'integer', minimum: 10, default: 60000 } },
    },
  },
};
