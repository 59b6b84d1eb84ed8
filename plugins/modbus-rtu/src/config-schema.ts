import type { TransportKindSchema } from '@meterhub/sdk';

/** The `rtu` kind's connection properties; their defaults are what SerialConnection opens the port with. */
const serialProperties = {
  path: { type: 'string', description: 'Serial device, e.g. /dev/ttyUSB0.' },
  baud: { type: 'integer', enum: [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200], default: 9600 },
  parity: { enum: ['none', 'even', 'odd'], default: 'none' },
  dataBits: { enum: [7, 8], default: 8 },
  stopBits: { enum: [1, 2], default: 1 },
};

/**
 * The plugin's transport kind with its connection properties, in a module of its own (named by
 * `meterhub.schema` in package.json): `meterhub validate` reads it without
 * loading the plugin; the plugin's factory returns the same objects.
 */
export const transports: Record<string, TransportKindSchema> = {
  rtu: { description: 'a local serial port.', properties: serialProperties, required: ['path'] },
};
