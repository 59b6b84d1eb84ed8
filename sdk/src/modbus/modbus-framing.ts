import { crc16 } from './crc16.js';
import { FC } from './modbus-pdu.js';

/** Wraps a PDU in an RTU frame: unit id, PDU, CRC (low byte first). */
export function rtuFrame(unitId: number, pdu: Buffer): Buffer {
  const frame = Buffer.alloc(pdu.length + 3);
  frame[0] = unitId;
  pdu.copy(frame, 1);
  frame.writeUInt16LE(crc16(frame, 0, frame.length - 2), frame.length - 2);
  return frame;
}

/** True when the last two bytes are the CRC of the rest. */
export function rtuCrcValid(frame: Buffer): boolean {
  return frame.length >= 4 && crc16(frame, 0, frame.length - 2) === frame.readUInt16LE(frame.length - 2);
}

/** Wraps a PDU in a Modbus TCP (MBAP) frame. */
export function mbapFrame(transactionId: number, unitId: number, pdu: Buffer): Buffer {
  const frame = Buffer.alloc(7 + pdu.length);
  frame.writeUInt16BE(transactionId & 0xffff, 0);
  frame.writeUInt16BE(0, 2);
  frame.writeUInt16BE(pdu.length + 1, 4);
  frame[6] = unitId;
  pdu.copy(frame, 7);
  return frame;
}

export interface MbapMessage {
  transactionId: number;
  protocolId: number;
  unitId: number;
  pdu: Buffer;
}

/**
 * Splits a TCP byte stream into MBAP messages. Returns the messages and the
 * unconsumed tail; a length field outside 2..254 means the peer does not speak
 * Modbus TCP (often an RTU-over-TCP gateway), reported as `garbage`.
 */
export function splitMbap(buf: Buffer): { messages: MbapMessage[]; rest: Buffer; garbage: boolean } {
  const messages: MbapMessage[] = [];
  let offset = 0;
  while (buf.length - offset >= 7) {
    const length = buf.readUInt16BE(offset + 4);
    const protocolId = buf.readUInt16BE(offset + 2);
    if (length < 2 || length > 254 || protocolId !== 0) return { messages, rest: Buffer.alloc(0), garbage: true };
    if (buf.length - offset < 6 + length) break;
    messages.push({
      transactionId: buf.readUInt16BE(offset),
      protocolId,
      unitId: buf[offset + 6]!,
      pdu: buf.subarray(offset + 7, offset + 6 + length),
    });
    offset += 6 + length;
  }
  return { messages, rest: buf.subarray(offset), garbage: false };
}

/**
 * Expected length of an RTU frame from its first bytes, or `undefined` when
 * more bytes are needed to tell. RTU has no length field: the length follows
 * from the function code, and for unknown codes only line silence ends a frame.
 * `-1` means the length cannot be derived from the content at all.
 */
export function rtuFrameLength(buf: Buffer, direction: 'request' | 'response'): number | undefined {
  if (buf.length < 2) return undefined;
  const fc = buf[1]!;
  if (direction === 'response') {
    if (fc & 0x80) return 5;
    if (fc === FC.READ_HOLDING || fc === FC.READ_INPUT) return buf.length < 3 ? undefined : 5 + buf[2]!;
    if (fc === FC.WRITE_MULTIPLE || fc === FC.DIAGNOSTICS) return 8;
    return -1;
  }
  if (fc === FC.READ_HOLDING || fc === FC.READ_INPUT || fc === FC.DIAGNOSTICS) return 8;
  if (fc === FC.WRITE_MULTIPLE) return buf.length < 7 ? undefined : 9 + buf[6]!;
  return -1;
}

/** Characters on the wire per byte: start bit, data bits, parity bit, stop bits. */
export function bitsPerChar(dataBits: number, parity: 'none' | 'even' | 'odd', stopBits: number): number {
  return 1 + dataBits + (parity === 'none' ? 0 : 1) + stopBits;
}

/** Milliseconds `bytes` take on a serial line. */
export function wireTimeMs(bytes: number, baud: number, bitsPerCharacter = 10): number {
  return (bytes * bitsPerCharacter * 1000) / baud;
}

/** The RTU inter-frame silence: 3.5 characters, fixed at 1.75 ms above 19200 baud. */
export function rtuSilenceMs(baud: number, bitsPerCharacter = 10): number {
  return baud > 19200 ? 1.75 : wireTimeMs(3.5, baud, bitsPerCharacter);
}
