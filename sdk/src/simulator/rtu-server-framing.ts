import { createRequire } from 'node:module';
import { FC } from '../transport/modbus-codes.js';
import type { ModbusRequest, SimulatorAnswer } from './meter-simulator.js';

/**
 * The server side of RTU framing, for the simulator's RTU endpoints (a serial
 * port, RTU over TCP). `modbus-serial` has no RTU-over-TCP server, and its
 * ServerSerial frames requests by 30 ms of silence and answers requests with a
 * bad CRC, where a meter frames by length and ignores them (see
 * docs/architecture.md). The CRC itself is the library's.
 */
const requireCjs = createRequire(import.meta.url);
const crc16 = (buf: Buffer): number => (requireCjs('modbus-serial/utils/crc16.js') as (b: Buffer) => number)(buf);

/** Wraps a PDU in an RTU frame: unit id, PDU, CRC (low byte first). */
export function rtuFrame(unitId: number, pdu: Buffer): Buffer {
  const frame = Buffer.alloc(pdu.length + 3);
  frame[0] = unitId;
  pdu.copy(frame, 1);
  frame.writeUInt16LE(crc16(frame.subarray(0, frame.length - 2)), frame.length - 2);
  return frame;
}

/** True when the last two bytes are the CRC of the rest. */
export function rtuCrcValid(frame: Buffer): boolean {
  return frame.length >= 4 && crc16(frame.subarray(0, frame.length - 2)) === frame.readUInt16LE(frame.length - 2);
}

/** The PDU answering `request`. */
export function answerPdu(request: ModbusRequest, answer: SimulatorAnswer): Buffer {
  const fc = request.functionCode;
  if ('exception' in answer) return Buffer.from([fc | 0x80, answer.exception]);
  if ('registers' in answer) return Buffer.concat([Buffer.from([fc, answer.registers.length]), answer.registers]);
  const pdu = Buffer.alloc(5);
  pdu[0] = fc;
  pdu.writeUInt16BE(request.address, 1);
  pdu.writeUInt16BE(request.count, 3);
  return pdu;
}

/** Size of the answer as an RTU frame, for wire timing. */
export function answerBytes(answer: SimulatorAnswer): number {
  if ('registers' in answer) return 5 + answer.registers.length;
  return 'exception' in answer ? 5 : 8;
}

/** Length of a request frame from its first bytes; undefined: more bytes needed; -1: only silence tells. */
function requestLength(buf: Buffer): number | undefined {
  if (buf.length < 2) return undefined;
  const fc = buf[1]!;
  if (fc === FC.READ_HOLDING || fc === FC.READ_INPUT || fc === FC.WRITE_SINGLE) return 8;
  if (fc === FC.WRITE_MULTIPLE) return buf.length < 7 ? undefined : 9 + buf[6]!;
  return -1;
}

function parseRequest(frame: Buffer): ModbusRequest {
  const fc = frame[1]!;
  const body = frame.subarray(2, frame.length - 2);
  const address = body.length >= 2 ? body.readUInt16BE(0) : 0;
  const count = fc === FC.WRITE_SINGLE ? 1 : body.length >= 4 ? body.readUInt16BE(2) : 0;
  const request: ModbusRequest = { unitId: frame[0]!, functionCode: fc, address, count };
  if (fc === FC.WRITE_MULTIPLE) {
    request.values = [];
    for (let o = 5; o + 1 < body.length; o += 2) request.values.push(body.readUInt16BE(o));
  }
  return request;
}

export interface RtuRequestEvents {
  /** A request frame with a valid CRC, and its size on the wire. */
  request(request: ModbusRequest, bytes: number): void;
  /** A frame that failed its CRC check: a meter ignores it. */
  crcError(): void;
}

/**
 * Reassembles request frames from a byte stream. Length follows from the
 * function code; bytes that cannot form a frame are dropped after `idleMs` of
 * silence, which is how a meter resynchronises after noise.
 */
export class RtuRequestReader {
  #buf: Buffer = Buffer.alloc(0);
  #idle: NodeJS.Timeout | undefined;

  constructor(private readonly events: RtuRequestEvents, private readonly idleMs = 20) {}

  push(chunk: Buffer): void {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    for (;;) {
      const length = requestLength(this.#buf);
      if (length === undefined || length === -1 || this.#buf.length < length) break;
      this.#emit(this.#buf.subarray(0, length));
      this.#buf = this.#buf.subarray(length);
    }
    clearTimeout(this.#idle);
    if (this.#buf.length > 0) {
      this.#idle = setTimeout(() => this.#flush(), this.idleMs);
      this.#idle.unref?.();
    }
  }

  #emit(frame: Buffer): void {
    if (rtuCrcValid(frame)) this.events.request(parseRequest(frame), frame.length);
    else this.events.crcError();
  }

  /** Silence on the line: what is buffered is a frame of a function we do not frame by length, or noise. */
  #flush(): void {
    const rest = this.#buf;
    this.#buf = Buffer.alloc(0);
    if (rest.length >= 4) this.#emit(rest);
  }

  reset(): void {
    clearTimeout(this.#idle);
    this.#buf = Buffer.alloc(0);
  }
}
