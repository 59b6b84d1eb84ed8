import { definePlugin } from '@meterhub/sdk';
import { TcpConnection } from './tcp-connection.js';

export { TcpConnection } from './tcp-connection.js';

/**
 * Offers two transports over TCP:
 * - `modbus-tcp`: Modbus TCP (MBAP) to a meter or a protocol-converting gateway;
 * - `rtu-over-tcp`: raw RTU frames through a transparent RS485-to-Ethernet converter.
 */
const tcpProperties = {
  host: { type: 'string', description: 'Address of the meter, gateway or converter.' },
  port: { type: 'integer', minimum: 1, maximum: 65535 },
};

export default definePlugin((host) => ({
  name: 'Modbus TCP and RTU over TCP',
  transports: {
    'modbus-tcp': { description: 'Modbus TCP meter or protocol-converting gateway.', properties: tcpProperties, required: ['host', 'port'] },
    'rtu-over-tcp': { description: 'raw RTU frames through a transparent serial-to-TCP converter.', properties: tcpProperties, required: ['host', 'port'] },
  },
  start() {
    host.transports.register('modbus-tcp', (options) => new TcpConnection(options, 'mbap'));
    host.transports.register('rtu-over-tcp', (options) => new TcpConnection(options, 'rtu'));
  },
}));
