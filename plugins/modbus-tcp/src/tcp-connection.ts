import { LibraryConnection, type ClientHints, type TransportOptions } from '@meterhub/sdk';

export type TcpFraming = 'mbap' | 'rtu';

/**
 * What to suggest when a mode gets no answer or garbage. Mixing up Modbus TCP and
 * RTU over TCP is the most common setup error with RS485-to-Ethernet gateways,
 * so every such error names the other mode.
 */
const HINTS: Record<TcpFraming, ClientHints> = {
  mbap: {
    timeout: 'check the unit id and that the meter is powered and wired; if the gateway is a transparent RS485 converter that passes raw RTU frames, use transport "rtu-over-tcp"',
    garbage: 'if the gateway is a transparent RS485 converter (raw RTU frames), use transport "rtu-over-tcp"',
  },
  rtu: {
    timeout: 'check the unit id, the gateway\'s serial settings (baud, parity) and the A/B wiring; if the gateway converts Modbus TCP to RTU itself, use transport "modbus-tcp"',
    garbage: 'if the gateway speaks Modbus TCP, use transport "modbus-tcp"; otherwise check baud rate and parity on its serial side',
  },
};

/**
 * One TCP connection to a Modbus TCP device or gateway (`mbap`: the library's
 * `connectTCP`), or to a transparent serial-to-TCP converter carrying raw RTU
 * frames (`rtu`: `connectTelnet`, which is RTU over a plain socket; the
 * library's `connectTcpRTUBuffered` speaks MBAP and is not it).
 */
export class TcpConnection extends LibraryConnection {
  constructor(options: TransportOptions, framing: TcpFraming) {
    const { host, port } = options;
    super({
      description: `${framing === 'mbap' ? 'modbus-tcp' : 'rtu-over-tcp'} ${host}:${port}`,
      hints: HINTS[framing],
      ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      open: (client) => (framing === 'mbap' ? client.connectTCP(host!, { port: port! }) : client.connectTelnet(host!, { port: port! })),
      connectError: (err) => (err.code === 'ECONNREFUSED' ? `connection refused; check the port (Modbus TCP is usually 502)` : err.message),
      closedMessage: 'the connection was closed by the other side',
    });
  }
}
