import { HOST_SCHEMA } from './host-schema.js';

type Schema = Record<string, unknown>;

export interface SchemaContribution {
  id: string;
  /** The plugin's `configSchema`; a plugin without one takes an empty object. */
  schema?: Schema;
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
