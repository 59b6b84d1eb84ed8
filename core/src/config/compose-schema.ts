import type { TransportKindSchema } from '@meterhub/sdk';
import { BUS_SCHEMA, HOST_SCHEMA } from './host-schema.js';

type Schema = Record<string, unknown>;

export interface SchemaContribution {
  id: string;
  /** The plugin's `configSchema`; a plugin without one takes an empty object. */
  schema?: Schema;
  /** Transport kinds the plugin declares, with their connection properties. */
  transports?: Record<string, TransportKindSchema>;
}

const EMPTY_PLUGIN_SCHEMA: Schema = { type: 'object', additionalProperties: false, properties: {} };

function pluginEntrySchema(config: Schema): Schema {
  return {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
      enabled: { type: 'boolean', default: true },
      required: { type: 'boolean', default: false, description: 'Refuse to start the host when this plugin cannot start.' },
      config: { ...config, default: (config['default'] as unknown) ?? {} },
    },
  };
}

/**
 * A bus's schema: the host's properties, `transport` one of the declared
 * kinds, and per kind its connection properties (validated with that kind's
 * schema, so two kinds may give one property different rules).
 */
export function busSchema(plugins: readonly SchemaContribution[]): Schema {
  const kinds = [...new Map(plugins.flatMap((p) => Object.entries(p.transports ?? {}))).entries()];
  const schema = structuredClone(BUS_SCHEMA) as unknown as Schema & { properties: Record<string, Schema> };
  schema.properties['transport'] = kinds.length > 0
    ? { enum: kinds.map(([kind]) => kind), description: kinds.map(([kind, k]) => `${kind}: ${k.description}`).join(' ') }
    : { enum: ['(none)'], description: 'No transport plugin is loaded.' };
  // additionalProperties applies to `properties` only: every kind's property is listed (any value) here, checked per kind below.
  for (const [, kind] of kinds) for (const name of Object.keys(kind.properties)) schema.properties[name] ??= {};
  // An empty allOf is not a valid schema: a host without transport plugins takes no bus at all.
  if (kinds.length > 0) schema['allOf'] = kinds.map(([kind, k]) => ({
    if: { properties: { transport: { const: kind } }, required: ['transport'] },
    then: { ...(k.required?.length ? { required: [...k.required] } : {}), properties: structuredClone(k.properties) },
  }));
  return schema;
}

/**
 * Composes the one schema of the whole configuration: the host's part, the
 * loaded drivers as the allowed values of `meters[].driver`, and each plugin's
 * schema under `plugins.<id>.config`. An id under `plugins` that no loaded plugin
 * has is an error ("unknown plugin").
 *
 * With `loosePlugins`, plugin configs are only required to be objects: the host
 * validates them one by one afterwards so that one plugin's bad config does not
 * stop the others.
 */
export function composeSchema(driverIds: readonly string[], plugins: readonly SchemaContribution[], loosePlugins = false): Schema {
  const schema = structuredClone(HOST_SCHEMA) as unknown as Schema & { properties: Record<string, Schema> };
  const meters = schema.properties['meters'] as { items: { properties: Record<string, Schema> } };
  if (driverIds.length > 0) meters.items.properties['driver'] = { ...meters.items.properties['driver'], enum: [...driverIds] };
  schema.properties['buses'] = { ...schema.properties['buses'], items: busSchema(plugins) };
  schema.properties['plugins'] = {
    type: 'object',
    default: {},
    additionalProperties: false,
    description: 'Per plugin: enabled, required, and its own config.',
    properties: Object.fromEntries(plugins.map((p) => [
      p.id,
      pluginEntrySchema(loosePlugins ? { type: 'object' } : structuredClone(p.schema ?? EMPTY_PLUGIN_SCHEMA)),
    ])),
  };
  return schema;
}
