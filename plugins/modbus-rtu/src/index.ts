import { definePlugin } from '@meterhub/sdk';
import { SerialConnection, type SerialOptions } from './serial-connection.js';

export { SerialConnection } from './serial-connection.js';

/** Offers the `rtu` transport: Modbus RTU on a local serial port (RS485 adapter). */
/** The `rtu` kind's connection properties; their defaults are what SerialConnection opens the port with. */
const serialProperties = {
  path: { type: 'string', description: 'Serial device, e.g. /dev/ttyUSB0.' },
  baud: { type: 'integer', enum: [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200], default: 9600 },
  parity: { enum: ['none', 'even', 'odd'], default: 'none' },
  dataBits: { enum: [7, 8], default: 8 },
  stopBits: { enum: [1, 2], default: 1 },
};

export default definePlugin((host) => ({
  name: 'Modbus RTU over serial',
  transports: {
    rtu: { description: 'a local serial port.', properties: serialProperties, required: ['path'] },
  },
  start() {
    host.transports.register('rtu', (options) => new SerialConnection(options as SerialOptions));
  },
}));
