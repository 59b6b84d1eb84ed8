/**
 * The plugin's config schema, in a module of its own (named by
 * `meterhub.schema` in package.json): `meterhub validate` reads it without
 * loading the plugin; the plugin's factory returns the same objects.
 */
export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    bodyLimit: { type: 'string', pattern: '^[0-9]+(kb|mb)$', default: '5mb', description: 'Largest accepted request body (larger: 413).' },
    login: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        maxPerMinute: { type: 'integer', minimum: 1, default: 20, description: 'Token requests per client address per minute.' },
        freeFailures: { type: 'integer', minimum: 1, default: 5, description: 'Failed logins per username before the lockout back-off starts.' },
      },
    },
    health: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        publicDetails: { type: 'boolean', default: false, description: '/health/ shows version, plugins, buses and meters to anyone (a trusted LAN); otherwise only to a token or key with read.' },
      },
    },
  },
};
