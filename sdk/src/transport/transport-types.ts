/**
 * The contract between the host's bus scheduler and a transport plugin. A
 * transport reads registers from a unit id; the scheduler adds everything
 * else (one request at a time per bus, pacing, retries, reconnects).
 */
import type { RegisterFunction } from '../driver/driver-types.js';

/**
 * Settings of one bus, as validated from the config's `buses[]`: the
 * connection properties its kind declares (`PluginInstance.transports`), with
 * their defaults filled in. The named ones are those of the built-in kinds.
 */
export interface TransportOptions {
  host?: string;
  port?: number;
  /** Serial device, e.g. /dev/ttyUSB0. */
  path?: string;
  baud?: number;
  parity?: 'none' | 'even' | 'odd';
  dataBits?: 7 | 8;
  stopBits?: 1 | 2;
  /** How long `connect()` may take. */
  connectTimeoutMs?: number;
  /** Properties of other kinds. */
  readonly [property: string]: unknown;
}

/** One read request (function 03 for `holding`, 04 for `input`). */
export interface ModbusRead {
  unitId: number;
  function: RegisterFunction;
  address: number;
  count: number;
  /** Always set: a request without a timeout can stall a bus forever. */
  timeoutMs: number;
}

/**
 * One physical connection (a TCP socket or a serial port) shared by every meter
 * on a bus. The scheduler never calls `read` again before the previous call
 * settled.
 */
export interface ModbusConnection {
  /** e.g. "modbus-tcp 192.0.2.10:502", for logs and status. */
  readonly description: string;
  readonly connected: boolean;
  /** Opens the connection; throws METERHUB_ERR_MODBUS_CONNECTION on failure. */
  connect(): Promise<void>;
  close(): Promise<void>;
  /**
   * Reads `count` registers and resolves with their bytes as sent on the wire
   * (2 per register, big-endian). Rejects with ModbusExceptionError for an
   * exception reply, otherwise METERHUB_ERR_MODBUS_TIMEOUT, _CRC, _FRAME or
   * _CONNECTION, whose messages suggest what to check.
   */
  read(request: ModbusRead): Promise<Buffer>;
}

/** Builds a connection for a bus. Registered by transport plugins under a kind such as `modbus-tcp`. */
export type TransportFactory = (options: TransportOptions) => ModbusConnection;
