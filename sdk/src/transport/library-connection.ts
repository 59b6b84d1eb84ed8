import { createRequire } from 'node:module';
import type Modbus from 'modbus-serial';
import { MeterhubError } from '../errors/error-catalog.js';
import { FC, ModbusExceptionError } from './modbus-codes.js';
import type { ModbusConnection, ModbusRead } from './transport-types.js';

type ModbusRTU = typeof Modbus.default;
// Required at the first connection: hosts and tools that never open a bus (validate, status) skip loading modbus-serial and serialport.
const requireCjs = createRequire(import.meta.url);
const modbusClient = (): ModbusRTU => requireCjs('modbus-serial') as ModbusRTU;

/** A `modbus-serial` client, as one of its `connectX` methods opens it. */
export type ModbusSerialClient = InstanceType<ModbusRTU>;

/** What a timeout or garbage should suggest; transports fill it in per mode. */
export interface ClientHints {
  /** Appended to timeout errors, e.g. "if the converter is transparent, try rtu-over-tcp". */
  timeout?: string;
  /** Appended to CRC and frame errors (bytes that do not parse in this framing). */
  garbage?: string;
}

export interface LibraryConnectionOptions {
  /** e.g. "modbus-tcp 192.0.2.10:502". */
  description: string;
  /** Opens one of the library's connection kinds on a fresh client (connectTCP, connectTelnet, connectRTUBuffered). */
  open(client: ModbusSerialClient): Promise<unknown>;
  hints: ClientHints;
  connectTimeoutMs?: number;
  /** Turns an open failure into advice for the user. */
  connectError(err: NodeJS.ErrnoException): string;
  /** The message when the other side closes the connection under a request. */
  closedMessage: string;
}

type LibraryError = { name?: string; message?: string; modbusCode?: number; code?: string };

/**
 * One bus connection on `modbus-serial`'s client. The library frames, checks
 * CRCs and matches replies; this wrapper adds what the bus scheduler needs and
 * the library does not give: a timeout on every request (the library has none
 * by default), errors classified into the catalog with advice (its timeout and
 * port errors are not `Error`s), a request in flight failed at once when the
 * connection drops (the library leaves it to its timer), and a bounded close
 * (see docs/architecture.md, "Modbus on modbus-serial").
 */
export class LibraryConnection implements ModbusConnection {
  readonly description: string;
  #client: ModbusSerialClient | undefined;
  #failPending: ((err: unknown) => void) | undefined;

  constructor(private readonly options: LibraryConnectionOptions) {
    this.description = options.description;
  }

  get connected(): boolean {
    return this.#client?.isOpen ?? false;
  }

  async connect(): Promise<void> {
    await this.close();
    const ModbusClient = modbusClient();
    const client = new ModbusClient();
    // Port errors are re-emitted on the client; unhandled, they would throw. The next request reports them.
    client.on('error', () => undefined);
    client.on('close', () => this.#failPending?.(new MeterhubError('METERHUB_ERR_MODBUS_CONNECTION', `${this.description}: ${this.options.closedMessage}`)));
    const timeoutMs = this.options.connectTimeoutMs ?? 3000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`no connection within ${timeoutMs} ms; check the address and that the device is powered`), { code: 'ETIMEDOUT' })), timeoutMs);
    });
    try {
      await Promise.race([this.options.open(client), timeout]);
    } catch (err) {
      discard(client);
      throw new MeterhubError('METERHUB_ERR_MODBUS_CONNECTION', `${this.description}: ${this.options.connectError(err as NodeJS.ErrnoException)}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
    this.#client = client;
  }

  read(r: ModbusRead): Promise<Buffer> {
    const client = this.#client;
    if (!client?.isOpen) return Promise.reject(new MeterhubError('METERHUB_ERR_MODBUS_CONNECTION', `${this.description}: not connected`));
    client.setTimeout(r.timeoutMs);
    return new Promise<Buffer>((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        this.#failPending = undefined;
        fn();
      };
      this.#failPending = (err) => settle(() => reject(err));
      const done = (err: unknown, result?: { buffer: Buffer }) =>
        settle(() => (err || !result ? reject(this.#classify(err, r)) : resolve(result.buffer)));
      if (r.function === 'input') client.writeFC4(r.unitId, r.address, r.count, done);
      else client.writeFC3(r.unitId, r.address, r.count, done);
    });
  }

  #classify(err: unknown, r: ModbusRead): unknown {
    const e = (err ?? {}) as LibraryError;
    const garbage = this.options.hints.garbage ? `; ${this.options.hints.garbage}` : '';
    if (typeof e.modbusCode === 'number') return new ModbusExceptionError(r.function === 'input' ? FC.READ_INPUT : FC.READ_HOLDING, e.modbusCode);
    if (e.name === 'TransactionTimedOutError') {
      const hint = this.options.hints.timeout ? `; ${this.options.hints.timeout}` : '';
      return new MeterhubError('METERHUB_ERR_MODBUS_TIMEOUT', `unit ${r.unitId} did not answer within ${r.timeoutMs} ms${hint}`);
    }
    if (e.name === 'PortNotOpenError') return new MeterhubError('METERHUB_ERR_MODBUS_CONNECTION', `${this.description}: not connected`);
    const message = e.message ?? String(err);
    if (message === 'CRC error') return new MeterhubError('METERHUB_ERR_MODBUS_CRC', `reply from unit ${r.unitId} failed its CRC check${garbage}`);
    if (/^(Data length|Unexpected data) error/.test(message)) return new MeterhubError('METERHUB_ERR_MODBUS_FRAME', `unit ${r.unitId}: ${message}${garbage}`);
    return new MeterhubError('METERHUB_ERR_MODBUS_CONNECTION', `${this.description}: ${message}`, { cause: err });
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#failPending?.(new MeterhubError('METERHUB_ERR_MODBUS_CONNECTION', `${this.description}: closed`));
    if (client) await discard(client);
  }
}

/**
 * Closes a client whatever its state. The library's `close` never calls back on
 * a port that already dropped, so the wait is bounded.
 */
function discard(client: ModbusSerialClient): Promise<void> {
  if (!client.isOpen) {
    const port = (client as unknown as { _port?: { destroy?: () => void } })._port;
    port?.destroy?.();
    return Promise.resolve();
  }
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 1000);
    client.close(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
