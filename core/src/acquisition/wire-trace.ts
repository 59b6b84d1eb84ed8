import { describeError } from '@meterhub/sdk';
import type { RegisterBlock } from './bus-link.js';

/** The part of the host's logger a trace needs. */
export interface TraceLog {
  isLevelEnabled(level: string): boolean;
  debug(obj: unknown, msg?: string): void;
}

const FUNCTION_CODE = { holding: 0x03, input: 0x04 } as const;
const hex = (b: Buffer): string => b.toString('hex').replace(/(..)(?=.)/g, '$1 ');

/**
 * Every request of a bus and its answer in hex with its timing, at debug level
 * (`LOG_LEVEL=debug`, or the old setting.json's `Troubleshoot: 1`): what a
 * person needs when a meter answers strangely. The request is the PDU meterhub
 * asks for (function, address, count); the answer the register bytes, or the
 * error. A busy bus makes many requests a second, so lines are limited per
 * second and the next line says how many were left out.
 */
export class WireTrace {
  #second = 0;
  #lines = 0;
  #suppressed = 0;

  constructor(private readonly log: TraceLog, private readonly bus: string, private readonly maxPerSecond = 20) {}

  /** Cheap enough to ask on every request: no formatting unless debug is on. */
  get enabled(): boolean {
    return this.log.isLevelEnabled('debug');
  }

  record(unitId: number, block: RegisterBlock, outcome: Buffer | { error: unknown }, ms: number): void {
    const now = Math.floor(Date.now() / 1000);
    if (now !== this.#second) {
      this.#second = now;
      this.#lines = 0;
    }
    if (++this.#lines > this.maxPerSecond) {
      this.#suppressed++;
      return;
    }
    const request = Buffer.alloc(5);
    request.writeUInt8(FUNCTION_CODE[block.function], 0);
    request.writeUInt16BE(block.address, 1);
    request.writeUInt16BE(block.count, 3);
    const answer = Buffer.isBuffer(outcome) ? `answer ${hex(outcome)}` : `error ${describeError(outcome.error)}`;
    const left = this.#suppressed > 0 ? ` (${this.#suppressed} earlier line(s) left out)` : '';
    this.#suppressed = 0;
    this.log.debug({ bus: this.bus, unit: unitId, ms: Math.round(ms * 10) / 10 },
      `bus ${this.bus} unit ${unitId}: request ${hex(request)}, ${answer} in ${ms.toFixed(1)} ms${left}`);
  }
}
