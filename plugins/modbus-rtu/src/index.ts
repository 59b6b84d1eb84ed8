import { definePlugin } from '@meterhub/sdk';
import { SerialConnection, type SerialOptions } from './serial-connection.js';
import { transports } from './config-schema.js';

export { SerialConnection } from './serial-connection.js';

/** Offers the `rtu` transport: Modbus RTU on a local serial port (RS485 adapter). */
export default definePlugin((host) => ({
  name: 'Modbus RTU over serial',
  transports,
  start() {
    host.transports.register('rtu', (options) => new SerialConnection(options as SerialOptions));
  },
}));
