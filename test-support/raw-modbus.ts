import { connect } from 'node:net';
import { FC, rtuCrcValid, rtuFrame } from '@meterhub/sdk';

/** PDU of a read request (function 03 or 04). */
export function readRequestPdu(functionCode: number, address: number, count: number): Buffer {
  const pdu = Buffer.alloc(5);
  pdu[0] = functionCode;
  pdu.writeUInt16BE(address, 1);
  pdu.writeUInt16BE(count, 3);
  return pdu;
}

/** PDU of a write-multiple-registers request (function 16). */
export function writeRequestPdu(address: number, data: Buffer): Buffer {
  const pdu = Buffer.alloc(6 + data.length);
  pdu[0] = FC.WRITE_MULTIPLE;
  pdu.writeUInt16BE(address, 1);
  pdu.writeUInt16BE(data.length / 2, 3);
  pdu[5] = data.length;
  data.copy(pdu, 6);
  return pdu;
}

/** A Modbus TCP frame: MBAP header (transaction id, protocol 0, length, unit id) and the PDU. */
function mbapFrame(transactionId: number, unitId: number, pdu: Buffer): Buffer {
  const frame = Buffer.alloc(7 + pdu.length);
  frame.writeUInt16BE(transactionId, 0);
  frame.writeUInt16BE(0, 2);
  frame.writeUInt16BE(pdu.length + 1, 4);
  frame[6] = unitId;
  pdu.copy(frame, 7);
  return frame;
}

/** Length of an RTU reply to a read from its first bytes, or undefined while unknown. */
function rtuReplyLength(d: Buffer): number | undefined {
  if (d.length < 3) return undefined;
  return d[1]! & 0x80 ? 5 : 5 + d[2]!;
}

/**
 * Sends one request and returns the raw reply bytes, or `undefined` when nothing
 * came within `timeoutMs`, or 'closed' when the peer hung up. Tests use it to see
 * exactly what a server puts on the wire, without any client library in between.
 */
export function rawExchange(
  port: number,
  frame: Buffer,
  timeoutMs = 300,
  complete: (data: Buffer) => boolean = () => false,
): Promise<Buffer | undefined | 'closed'> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(data.length ? data : undefined);
    }, timeoutMs);
    socket.on('connect', () => socket.write(frame));
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (complete(data)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(data);
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(data.length ? data : 'closed');
    });
    socket.on('error', reject);
  });
}

/** Modbus TCP request → response PDU (MBAP header stripped), or undefined / 'closed'. */
export async function tcpPdu(port: number, unitId: number, pdu: Buffer, timeoutMs?: number): Promise<Buffer | undefined | 'closed'> {
  const mbapComplete = (d: Buffer) => d.length >= 7 && d.length >= 6 + d.readUInt16BE(4);
  const reply = await rawExchange(port, mbapFrame(7, unitId, pdu), timeoutMs, mbapComplete);
  if (!Buffer.isBuffer(reply)) return reply;
  return reply.subarray(7);
}

/** RTU-over-TCP request → full RTU reply frame and whether its CRC is valid. */
export async function rtuOverTcp(port: number, unitId: number, pdu: Buffer, timeoutMs?: number) {
  const rtuComplete = (d: Buffer) => {
    const n = rtuReplyLength(d);
    return n !== undefined && d.length >= n;
  };
  const reply = await rawExchange(port, rtuFrame(unitId, pdu), timeoutMs, rtuComplete);
  if (!Buffer.isBuffer(reply)) return { reply, crcValid: false };
  return { reply, crcValid: rtuCrcValid(reply) };
}
