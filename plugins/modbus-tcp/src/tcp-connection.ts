import { connect, type Socket } from 'node:net';
import {
  MbapClient, MeterhubError, RtuClient,
  type ClientHints, type ModbusConnection, type ModbusTransaction, type TransportOptions,
} from '@meterhub/sdk';

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
 * One TCP connection to a Modbus TCP device or gateway (`mbap`), or to a
 * transparent serial-to-TCP converter carrying raw RTU frames (`rtu`).
 */
export class TcpConnection implements ModbusConnection {
  readonly description: string;
  #socket: Socket | undefined;
  #connected = false;
  readonly #client: MbapClient | RtuClient;

  constructor(private readonly options: TransportOptions, private readonly framing: TcpFraming) {
    this.description = `${framing === 'mbap' ? 'modbus-tcp' : 'rtu-over-tcp'} ${options.host}:${options.port}`;
    const write = (frame: Buffer) => this.#socket?.write(frame);
    this.#client = framing === 'mbap' ? new MbapClient(write, HINTS.mbap) : new RtuClient(write, HINTS.rtu);
  }

  get connected(): boolean {
    return this.#connected;
  }

  connect(): Promise<void> {
    const { host, port } = this.options;
    const timeoutMs = this.options.connectTimeoutMs ?? 3000;
    return new Promise((resolve, reject) => {
      const socket = connect({ host: host!, port: port! });
      const fail = (message: string) => {
        socket.destroy();
        reject(new MeterhubError('METERHUB_ERR_MODBUS_CONNECTION', `${this.description}: ${message}`));
      };
      const timer = setTimeout(() => fail(`no connection within ${timeoutMs} ms; check the address and that the gateway is powered`), timeoutMs);
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        fail(err.code === 'ECONNREFUSED' ? 'connection refused; check the port (Modbus TCP is usually 502)' : err.message);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 10_000);
        this.#socket = socket;
        this.#connected = true;
        this.#client.reset();
        socket.on('data', (chunk: Buffer) => this.#client.push(chunk));
        socket.on('error', () => undefined);
        socket.on('close', () => {
          this.#connected = false;
          this.#client.failPending(new MeterhubError('METERHUB_ERR_MODBUS_CONNECTION', `${this.description}: the connection was closed by the other side`));
        });
        resolve();
      });
    });
  }

  transact(t: ModbusTransaction): Promise<Buffer> {
    if (!this.#connected) return Promise.reject(new MeterhubError('METERHUB_ERR_MODBUS_CONNECTION', `${this.description}: not connected`));
    return this.#client.transact(t);
  }

  async close(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#connected = false;
    if (socket && !socket.destroyed) {
      const closed = new Promise((r) => socket.once('close', r));
      socket.destroy();
      await closed;
    }
  }
}
