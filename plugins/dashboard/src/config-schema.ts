/**
 * The plugin's config schema, in a module of its own (named by
 * `meterhub.schema` in package.json): `meterhub validate` reads it without
 * loading the plugin; the plugin's factory returns the same objects.
 */
export const configSchema = { type: 'object', additionalProperties: false, properties: {} };
