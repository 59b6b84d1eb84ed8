import { connect } from 'node:net';
import { mbapFrame, rtuCrcValid, rtuFrame, rtuFrameLength } from '@meterhub/sdk';

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
    const n = rtuFrameLength(d, 'response');
    return n !== undefined && n > 0 && d.length >= n;
  };
  const reply = await rawExchange(port, rtuFrame(unitId, pdu), timeoutMs, rtuComplete);
  if (!Buffer.isBuffer(reply)) return { reply, crcValid: false };
  return { reply, crcValid: rtuCrcValid(reply) };
}
