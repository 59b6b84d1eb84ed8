import { LibraryConnection, type TransportOptions } from '@meterhub/sdk';

/** A bus of the `rtu` kind: its schema (index.ts) fills in every serial setting. */
export type SerialOptions = TransportOptions & Required<Pick<TransportOptions, 'path' | 'baud' | 'parity' | 'dataBits' | 'stopBits'>>;

/**
 * A local serial port (RS485 adapter such as /dev/ttyUSB0) speaking Modbus RTU
 * through the library's buffered RTU port, which reassembles replies that
 * arrive in several chunks (its unbuffered `connectRTU` does not).
 */
export class SerialConnection extends LibraryConnection {
  constructor(options: SerialOptions) {
    const o = options;
    super({
      description: `rtu ${o.path} ${o.baud} ${o.dataBits}${o.parity[0]!.toUpperCase()}${o.stopBits}`,
      hints: {
        timeout: 'check the unit id, baud rate and parity (SDM meters: 9600 8N1 by default), the A/B wiring and bus termination',
        garbage: 'check baud rate and parity, and that only one master talks on the bus',
      },
      ...(o.connectTimeoutMs ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
      open: (client) => client.connectRTUBuffered(o.path, { baudRate: o.baud, parity: o.parity, dataBits: o.dataBits, stopBits: o.stopBits }),
      connectError: (err) => `${err.message}; check the device path and that no other program holds the port`,
      closedMessage: 'the port was closed (adapter unplugged?)',
    });
  }
}
