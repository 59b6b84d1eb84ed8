import type { TransportKindSchema } from '@meterhub/sdk';

const tcpProperties = {
  host: { type: 'string', description: 'Address of the meter, gateway or converter.' },
  port: { type: 'integer', minimum: 1, maximum: 65535 },
};

/**
 * The plugin's transport kinds with their connection properties, in a module of its own (named by
 * `meterhub.schema` in package.json): `meterhub validate` reads it without
 * loading the plugin; the plugin's factory returns the same objects.
 */
export const transports: Record<string, TransportKindSchema> = {
  'modbus-tcp': { description: 'Modbus TCP meter or protocol-converting gateway.', properties: tcpProperties, required: ['host', 'port'] },
  'rtu-over-tcp': { description: 'raw RTU frames through a transparent serial-to-TCP converter.', properties: tcpProperties, required: ['host', 'port'] },
};
