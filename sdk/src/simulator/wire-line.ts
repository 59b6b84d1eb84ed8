import { bitsPerChar, rtuSilenceMs, wireTimeMs } from './wire-timing.js';

/** Serial line characteristics to emulate. */
export interface WireEmulation {
  baud: number;
  dataBits?: 7 | 8;
  parity?: 'none' | 'even' | 'odd';
  stopBits?: 1 | 2;
  /** How long the meter takes to start answering once a request is complete. */
  turnaroundMs?: number;
  /**
   * Silence the meter needs after its reply before it accepts another request
   * (Eastron: 60 ms). A request that arrives earlier is ignored, as a real meter
   * would, and counted in `violations`.
   */
  minSilenceMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * One RS485 line: requests are served strictly one at a time, and with wire
 * emulation each reply is held back by the time its bytes and the request's
 * bytes take at the given baud rate, plus the meter's turnaround. Benchmarks
 * against it therefore see what a real 9600-baud bus allows.
 */
export class WireLine {
  #tail: Promise<unknown> = Promise.resolve();
  #lastReplyEnd = 0;
  violations = 0;
  readonly #bits: number;

  constructor(readonly emulation?: WireEmulation) {
    this.#bits = emulation ? bitsPerChar(emulation.dataBits ?? 8, emulation.parity ?? 'none', emulation.stopBits ?? 1) : 10;
  }

  /** Wire time of `bytes` on this line (0 without emulation). */
  timeMs(bytes: number): number {
    return this.emulation ? wireTimeMs(bytes, this.emulation.baud, this.#bits) : 0;
  }

  /**
   * Runs one exchange when the line is free. `compute` returns the reply (its
   * RTU size in bytes and how to send it) or undefined for silence; with
   * emulation the reply is sent only when its last byte would have left the
   * wire, and the line stays busy until then. `receivedAt` (performance.now()
   * time) is when the request's bytes came in, for a server that hands the
   * request over later than that.
   */
  run(requestBytes: number, compute: () => Promise<OutgoingReply | undefined>, receivedAt?: number): Promise<void> {
    const job = this.#tail.then(async () => {
      const e = this.emulation;
      // When the request's last byte came in, or when the line freed up if it was busy then.
      const arrived = receivedAt === undefined ? performance.now() : Math.max(receivedAt, this.#lastReplyEnd);
      // 1 ms of slack for timer jitter between two processes.
      if (e?.minSilenceMs && this.#lastReplyEnd > 0 && arrived - this.#lastReplyEnd < e.minSilenceMs - 1) {
        this.violations++;
        return;
      }
      const reply = await compute();
      if (!reply) return;
      if (e) {
        const silence = rtuSilenceMs(e.baud, this.#bits);
        const due = arrived + this.timeMs(requestBytes) + silence + (e.turnaroundMs ?? 0) + this.timeMs(reply.bytes);
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
      }
      reply.send();
      this.#lastReplyEnd = performance.now();
    });
    this.#tail = job.catch(() => undefined);
    return job;
  }
}

/** A reply ready to go out on a line. */
export interface OutgoingReply {
  /** Size of the reply as an RTU frame, for wire timing. */
  bytes: number;
  send(): void;
}
