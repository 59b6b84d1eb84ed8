import { definePlugin } from '@meterhub/sdk';
import { SerialConnection } from './serial-connection.js';

export { SerialConnection } from './serial-connection.js';

/** Offers the `rtu` transport: Modbus RTU on a local serial port (RS485 adapter). */
export default definePlugin((host) => ({
  name: 'Modbus RTU over serial',
  start() {
    host.transports.register('rtu', (options) => new SerialConnection(options));
  },
}));
