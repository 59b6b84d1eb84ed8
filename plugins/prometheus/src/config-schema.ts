/**
 * The plugin's config schema, in a module of its own (named by
 * `meterhub.schema` in package.json): `meterhub validate` reads it without
 * loading the plugin; the plugin's factory returns the same objects.
 */
export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    access: {
      enum: ['authenticated', 'public'],
      description: 'Who may scrape. "authenticated": an API key with the "read" scope (Prometheus: authorization credentials) or a user\'s access token; "public": anyone who reaches the HTTP port (a trusted LAN only). Unset: /metrics is not served.',
    },
    path: { type: 'string', pattern: '^/[A-Za-z0-9_.-][A-Za-z0-9/_.-]*$', default: '/metrics', description: 'Where the metrics are served.' },
    processMetrics: { type: 'boolean', default: true, description: 'Also expose the process and Node.js metrics (process_*, nodejs_*, event-loop delay).' },
  },
};
