import {
  describeError, isMeterhubError, MeterhubError,
  type ModbusConnection, type RegisterFunction,
} from '@meterhub/sdk';
import { LatencyStats, type LatencyHistogram } from './latency-stats.js';
import type { WireTrace } from './wire-trace.js';

/** Timing of one bus, resolved from the bus config and its meters' drivers. */
export interface BusTiming {
  responseTimeoutMs: number;
  /** Timeout of a probe of an offline meter, at most responseTimeoutMs. */
  probeTimeoutMs: number;
  interRequestDelayMs: number;
  unitSwitchDelayMs: number;
  afterConnectDelayMs: number;
  retries: number;
}

/** What one request reads. */
export interface RegisterBlock {
  function: RegisterFunction;
  address: number;
  count: number;
}

export type ErrorKind = 'timeout' | 'crc' | 'exception' | 'frame' | 'connection';

const KIND_BY_CODE: Record<string, ErrorKind> = {
  METERHUB_ERR_MODBUS_TIMEOUT: 'timeout',
  METERHUB_ERR_MODBUS_CRC: 'crc',
  METERHUB_ERR_MODBUS_EXCEPTION: 'exception',
  METERHUB_ERR_MODBUS_FRAME: 'frame',
  METERHUB_ERR_MODBUS_CONNECTION: 'connection',
};

export function errorKind(err: unknown): ErrorKind {
  return (isMeterhubError(err) && KIND_BY_CODE[err.code]) || 'connection';
}

const sleep = (ms: number) => (ms > 0 ? new Promise<void>((r) => setTimeout(r, ms)) : Promise.resolve());

/**
 * Sleeps until `performance.now()` reaches `target`. Node timers run off the
 * event loop's cached clock and can fire a millisecond or two early; a meter
 * that needs 60 ms of silence must get all of it.
 */
async function sleepUntil(target: number): Promise<void> {
  for (let left = target - performance.now(); left > 0; left = target - performance.now()) await sleep(Math.ceil(left));
}

export interface BusLinkStatus {
  connected: boolean;
  description: string;
  requests: number;
  errors: Record<ErrorKind, number>;
  reconnects: number;
  latencyMs: ReturnType<LatencyStats['percentiles']>;
  /** Every successful request since start, for Prometheus' histogram. */
  latencyHistogram: LatencyHistogram;
  lastError: { message: string; at: string } | null;
}

/**
 * One bus's connection with the discipline RS485 needs: one request at a time,
 * the meter's silent interval after every response, an extra pause when the
 * unit id changes, a pause after (re)connecting, bounded retries of timeouts
 * and CRC errors, and reconnects with exponential back-off.
 */
export class BusLink {
  #lastEnd = 0;
  #lastUnit = -1;
  #queue: Promise<unknown> = Promise.resolve();
  #reconnectAt = 0;
  #reconnectDelay = 0;
  #closed = false;
  readonly latency = new LatencyStats();
  requests = 0;
  reconnects = 0;
  readonly errors: Record<ErrorKind, number> = { timeout: 0, crc: 0, exception: 0, frame: 0, connection: 0 };
  lastError: { message: string; at: string } | null = null;

  constructor(private readonly connection: ModbusConnection, public timing: BusTiming, private readonly trace?: WireTrace) {}

  get description(): string {
    return this.connection.description;
  }

  async #ensureConnected(): Promise<void> {
    if (this.connection.connected) return;
    if (this.#closed) throw new MeterhubError('METERHUB_ERR_MODBUS_CONNECTION', 'bus is stopped');
    const now = Date.now();
    if (now < this.#reconnectAt) {
      throw new MeterhubError('METERHUB_ERR_MODBUS_CONNECTION', `${this.description}: not connected; next attempt in ${Math.ceil((this.#reconnectAt - now) / 1000)} s`);
    }
    try {
      await this.connection.connect();
      if (this.#reconnectDelay > 0) this.reconnects++;
      this.#reconnectDelay = 0;
      this.#lastUnit = -1;
      await sleep(this.timing.afterConnectDelayMs);
      this.#lastEnd = performance.now();
    } catch (err) {
      this.#reconnectDelay = Math.min(Math.max(this.#reconnectDelay * 2, 500), 30_000);
      this.#reconnectAt = Date.now() + this.#reconnectDelay;
      throw err;
    }
  }

  /** Waits out the silence the previous response requires before addressing `unitId`. */
  async #pace(unitId: number): Promise<void> {
    const gap = this.timing.interRequestDelayMs + (unitId !== this.#lastUnit && this.#lastUnit !== -1 ? this.timing.unitSwitchDelayMs : 0);
    await sleepUntil(this.#lastEnd + gap);
  }

  /**
   * Reads `block` from `unitId` through the bus: returns the register bytes.
   * Timeouts and CRC errors are retried `retries` times (or `options.retries`);
   * exceptions and connection errors are not.
   */
  read(unitId: number, block: RegisterBlock, options: { retries?: number; timeoutMs?: number } = {}): Promise<Buffer> {
    const job = this.#queue.then(() => this.#read(unitId, block, options));
    this.#queue = job.catch(() => undefined);
    return job;
  }

  async #read(unitId: number, block: RegisterBlock, options: { retries?: number; timeoutMs?: number }): Promise<Buffer> {
    const retries = options.retries ?? this.timing.retries;
    for (let attempt = 0; ; attempt++) {
      let t0 = Number.NaN;
      try {
        await this.#ensureConnected();
        await this.#pace(unitId);
        this.requests++;
        t0 = performance.now();
        let response: Buffer;
        try {
          response = await this.connection.read({
            unitId, function: block.function, address: block.address, count: block.count, timeoutMs: options.timeoutMs ?? this.timing.responseTimeoutMs,
          });
        } finally {
          this.#lastEnd = performance.now();
          this.#lastUnit = unitId;
        }
        this.latency.add(this.#lastEnd - t0);
        if (this.trace?.enabled) this.trace.record(unitId, block, response, this.#lastEnd - t0);
        return response;
      } catch (err) {
        const kind = errorKind(err);
        // Only requests that went out: a refused connection is logged by the scheduler.
        if (this.trace?.enabled && !Number.isNaN(t0)) this.trace.record(unitId, block, { error: err }, this.#lastEnd - t0);
        this.errors[kind]++;
        this.lastError = { message: describeError(err), at: new Date().toISOString() };
        if ((kind === 'timeout' || kind === 'crc') && attempt < retries) continue;
        if (kind === 'connection' || kind === 'frame') {
          // A frame error leaves the stream out of step; reopening resynchronises it.
          await this.connection.close().catch(() => undefined);
        }
        throw err;
      }
    }
  }

  status(): BusLinkStatus {
    return {
      connected: this.connection.connected,
      description: this.description,
      requests: this.requests,
      errors: { ...this.errors },
      reconnects: this.reconnects,
      latencyMs: this.latency.percentiles(),
      latencyHistogram: this.latency.histogram(),
      lastError: this.lastError,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
    await this.connection.close().catch(() => undefined);
  }
}
