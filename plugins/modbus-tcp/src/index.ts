import { definePlugin } from '@meterhub/sdk';
import { TcpConnection } from './tcp-connection.js';
import { transports } from './config-schema.js';

export { TcpConnection } from './tcp-connection.js';

/**
 * Offers two transports over TCP:
 * - `modbus-tcp`: Modbus TCP (MBAP) to a meter or a protocol-converting gateway;
 * - `rtu-over-tcp`: raw RTU frames through a transparent RS485-to-Ethernet converter.
 */
export default definePlugin((host) => ({
  name: 'Modbus TCP and RTU over TCP',
  transports,
  start() {
    host.transports.register('modbus-tcp', (options) => new TcpConnection(options, 'mbap'));
    host.transports.register('rtu-over-tcp', (options) => new TcpConnection(options, 'rtu'));
  },
}));
