import { SerialPort } from 'serialport';
import {
  MeterhubError, RtuClient,
  type ModbusConnection, type ModbusTransaction, type TransportOptions,
} from '@meterhub/sdk';

/** A local serial port (RS485 adapter such as /dev/ttyUSB0) speaking Modbus RTU. */
export class SerialConnection implements ModbusConnection {
  readonly description: string;
  #port: SerialPort | undefined;
  readonly #client: RtuClient;

  constructor(private readonly options: TransportOptions) {
    this.description = `rtu ${options.path} ${options.baud} ${options.dataBits}${options.parity[0]!.toUpperCase()}${options.stopBits}`;
    this.#client = new RtuClient((frame) => this.#port?.write(frame), {
      timeout: 'check the unit id, baud rate and parity (SDM meters: 9600 8N1 by default), the A/B wiring and bus termination',
      garbage: 'check baud rate and parity, and that only one master talks on the bus',
    });
  }

  get connected(): boolean {
    return this.#port?.isOpen ?? false;
  }

  connect(): Promise<void> {
    const o = this.options;
    return new Promise((resolve, reject) => {
      const port = new SerialPort(
        { path: o.path!, baudRate: o.baud, parity: o.parity, dataBits: o.dataBits, stopBits: o.stopBits, autoOpen: true },
        (err) => {
          if (err) {
            reject(new MeterhubError('METERHUB_ERR_MODBUS_CONNECTION', `${this.description}: ${err.message}; check the device path and that no other program holds the port`));
            return;
          }
          this.#port = port;
          this.#client.reset();
          port.on('data', (chunk: Buffer) => this.#client.push(chunk));
          port.on('error', () => undefined);
          port.on('close', () => {
            this.#client.failPending(new MeterhubError('METERHUB_ERR_MODBUS_CONNECTION', `${this.description}: the port was closed (adapter unplugged?)`));
          });
          resolve();
        },
      );
    });
  }

  transact(t: ModbusTransaction): Promise<Buffer> {
    if (!this.connected) return Promise.reject(new MeterhubError('METERHUB_ERR_MODBUS_CONNECTION', `${this.description}: not open`));
    return this.#client.transact(t);
  }

  async close(): Promise<void> {
    const port = this.#port;
    this.#port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
