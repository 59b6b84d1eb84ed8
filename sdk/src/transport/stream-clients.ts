import { MeterhubError } from '../errors/error-catalog.js';
import { mbapFrame, rtuFrame, splitMbap } from '../modbus/modbus-framing.js';
import { RtuStreamParser } from '../modbus/rtu-stream-parser.js';
import type { ModbusTransaction } from './transport-types.js';

interface Pending {
  resolve(pdu: Buffer): void;
  reject(err: unknown): void;
  timer: NodeJS.Timeout;
  unitId: number;
  tid?: number;
}

/** What a timeout or garbage should suggest; transports fill it in per mode. */
export interface ClientHints {
  /** Appended to timeout errors, e.g. "if the converter is transparent, try rtu-over-tcp". */
  timeout?: string;
  /** Appended to errors for bytes that do not parse in this framing. */
  garbage?: string;
}

abstract class StreamClient {
  protected pending: Pending | undefined;

  constructor(protected readonly write: (frame: Buffer) => void, protected readonly hints: ClientHints = {}) {}

  protected settle(fn: (p: Pending) => void): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    fn(p);
  }

  /** Fails the request in flight, e.g. when the connection closed under it. */
  failPending(err: unknown): void {
    this.settle((p) => p.reject(err));
  }

  protected start(t: ModbusTransaction, frame: Buffer, tid?: number): Promise<Buffer> {
    if (this.pending) return Promise.reject(new MeterhubError('METERHUB_ERR_MODBUS_CONNECTION', 'a request is already in flight on this connection'));
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        const hint = this.hints.timeout ? `; ${this.hints.timeout}` : '';
        this.failPending(new MeterhubError('METERHUB_ERR_MODBUS_TIMEOUT', `unit ${t.unitId} did not answer within ${t.timeoutMs} ms${hint}`));
      }, t.timeoutMs);
      this.pending = { resolve, reject, timer, unitId: t.unitId, ...(tid !== undefined ? { tid } : {}) };
      this.write(frame);
    });
  }

  abstract transact(t: ModbusTransaction): Promise<Buffer>;
  abstract push(chunk: Buffer): void;
  abstract reset(): void;
}

/**
 * Client side of RTU framing over any byte stream: a serial port, or a TCP
 * socket to a transparent serial converter. Feed received bytes to `push`.
 */
export class RtuClient extends StreamClient {
  readonly #parser = new RtuStreamParser('response', {
    frame: (frame) => {
      // A reply from another unit (a late answer to an earlier request) is not ours.
      if (!this.pending || frame[0] !== this.pending.unitId) return;
      this.settle((p) => p.resolve(frame.subarray(1, frame.length - 2)));
    },
    discard: (bytes, reason) => {
      if (!this.pending) return;
      const hint = this.hints.garbage ? `; ${this.hints.garbage}` : '';
      if (reason === 'crc') this.failPending(new MeterhubError('METERHUB_ERR_MODBUS_CRC', `reply from unit ${this.pending.unitId} failed its CRC check (${bytes.length} bytes)${hint}`));
    },
  }, 15);

  transact(t: ModbusTransaction): Promise<Buffer> {
    this.#parser.reset();
    return this.start(t, rtuFrame(t.unitId, t.pdu));
  }

  push(chunk: Buffer): void {
    this.#parser.push(chunk);
  }

  reset(): void {
    this.#parser.reset();
  }
}

/** Client side of Modbus TCP (MBAP) framing over a socket. */
export class MbapClient extends StreamClient {
  #tid = 0;
  #buf: Buffer = Buffer.alloc(0);

  transact(t: ModbusTransaction): Promise<Buffer> {
    this.#tid = (this.#tid + 1) & 0xffff;
    return this.start(t, mbapFrame(this.#tid, t.unitId, t.pdu), this.#tid);
  }

  push(chunk: Buffer): void {
    const { messages, rest, garbage } = splitMbap(this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk);
    this.#buf = rest;
    if (garbage) {
      const hint = this.hints.garbage ? `; ${this.hints.garbage}` : '';
      this.failPending(new MeterhubError('METERHUB_ERR_MODBUS_FRAME', `received bytes that are not Modbus TCP${hint}`));
      return;
    }
    for (const m of messages) {
      // Replies to requests that already timed out carry an old transaction id: skip them.
      if (this.pending && m.transactionId === this.pending.tid) this.settle((p) => p.resolve(m.pdu));
    }
  }

  reset(): void {
    this.#buf = Buffer.alloc(0);
  }
}
