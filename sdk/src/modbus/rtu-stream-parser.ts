import { rtuCrcValid, rtuFrameLength } from './modbus-framing.js';

export interface RtuParserEvents {
  /** A complete frame with a valid CRC. */
  frame(frame: Buffer): void;
  /** Bytes dropped: bad CRC, or noise that never formed a frame. */
  discard(bytes: Buffer, reason: 'crc' | 'noise'): void;
}

/**
 * Reassembles RTU frames from a byte stream (a serial port or a transparent TCP
 * gateway). Frame length is derived from the function code; bytes that cannot
 * form a frame are flushed after `idleMs` of silence, which is how a real RTU
 * receiver resynchronises after noise.
 */
export class RtuStreamParser {
  #buf: Buffer = Buffer.alloc(0);
  #idle: NodeJS.Timeout | undefined;

  constructor(
    private readonly direction: 'request' | 'response',
    private readonly events: RtuParserEvents,
    private readonly idleMs = 20,
  ) {}

  push(chunk: Buffer): void {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    this.#drain();
    clearTimeout(this.#idle);
    if (this.#buf.length > 0) {
      this.#idle = setTimeout(() => this.#flush(), this.idleMs);
      this.#idle.unref?.();
    }
  }

  #drain(): void {
    for (;;) {
      const length = rtuFrameLength(this.#buf, this.direction);
      if (length === undefined || length === -1 || this.#buf.length < length) {
        if (length !== undefined && length > 260) this.#flush();
        return;
      }
      const frame = this.#buf.subarray(0, length);
      this.#buf = this.#buf.subarray(length);
      if (rtuCrcValid(frame)) this.events.frame(Buffer.from(frame));
      else this.events.discard(Buffer.from(frame), 'crc');
    }
  }

  /** Silence on the line: whatever is buffered is a frame of unknown layout, or noise. */
  #flush(): void {
    if (this.#buf.length === 0) return;
    const rest = this.#buf;
    this.#buf = Buffer.alloc(0);
    if (rest.length >= 4 && rtuCrcValid(rest)) this.events.frame(Buffer.from(rest));
    else this.events.discard(Buffer.from(rest), rest.length >= 4 ? 'crc' : 'noise');
  }

  reset(): void {
    clearTimeout(this.#idle);
    this.#buf = Buffer.alloc(0);
  }
}
