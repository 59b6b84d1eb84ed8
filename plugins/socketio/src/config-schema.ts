/**
 * The plugin's config schema, in a module of its own (named by
 * `meterhub.schema` in package.json): `meterhub validate` reads it without
 * loading the plugin; the plugin's factory returns the same objects.
 */
export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    path: { type: 'string', pattern: '^/[A-Za-z0-9_./-]*$', default: '/socket.io', description: 'Socket.IO path (clients\' `path` option).' },
    wsPath: { type: ['string', 'null'], pattern: '^/[A-Za-z0-9_./-]*$', default: '/ws/meters', description: 'Plain WebSocket endpoint; null turns it off.' },
    pingIntervalMs: { type: 'integer', minimum: 1000, default: 25000, description: 'Heartbeat period; a client silent for longer than interval + timeout is dropped.' },
    pingTimeoutMs: { type: 'integer', minimum: 1000, default: 20000 },
    redisKey: { type: 'string', minLength: 1, default: 'meterhub-live', description: 'Redis channel prefix shared by the instances of one installation.' },
    credentialRecheckMs: {
      type: 'integer', minimum: 1000, default: 30000,
      description: 'How often every live connection\'s credentials are checked again, for revocations made outside this host (the CLI); revocations through the API close connections at once.',
    },
  },
};
