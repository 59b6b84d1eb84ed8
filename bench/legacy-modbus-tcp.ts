/**
 * The hand-written Modbus TCP framing meterhub used before it moved onto
 * `modbus-serial`, kept here only as the acquisition benchmark's baseline: the
 * same scheduler and simulator model, measured through the old client and
 * server in the same run, so that the library's cost is a ratio and not a
 * comparison with figures from another day on another load.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import {
  answerBytes, answerPdu, MeterhubError, ModbusExceptionError, WireLine,
  type MeterSimulator, type ModbusConnection, type ModbusRead, type TransportOptions, type WireEmulation,
} from '@meterhub/sdk';

function mbapFrame(tid: number, unitId: number, pdu: Buffer): Buffer {
  const frame = Buffer.alloc(7 + pdu.length);
  frame.writeUInt16BE(tid & 0xffff, 0);
  frame.writeUInt16BE(pdu.length + 1, 4);
  frame[6] = unitId;
  pdu.copy(frame, 7);
  return frame;
}

/** Complete MBAP messages at the head of `buf`, and the rest. */
function splitMbap(buf: Buffer): { messages: Array<{ tid: number; unitId: number; pdu: Buffer }>; rest: Buffer } {
  const messages = [];
  let o = 0;
  while (buf.length - o >= 7 && buf.length - o >= 6 + buf.readUInt16BE(o + 4)) {
    const length = buf.readUInt16BE(o + 4);
    messages.push({ tid: buf.readUInt16BE(o), unitId: buf[o + 6]!, pdu: buf.subarray(o + 7, o + 6 + length) });
    o += 6 + length;
  }
  return { messages, rest: buf.subarray(o) };
}

/** The old client: one socket, one request in flight, MBAP framing by hand. */
export class LegacyTcpConnection implements ModbusConnection {
  readonly description: string;
  #socket: Socket | undefined;
  #buf = Buffer.alloc(0);
  #tid = 0;
  #pending: { tid: number; resolve(pdu: Buffer): void; reject(err: unknown): void; timer: NodeJS.Timeout } | undefined;

  constructor(private readonly options: TransportOptions) {
    this.description = `legacy modbus-tcp ${options.host}:${options.port}`;
  }

  get connected(): boolean {
    return this.#socket !== undefined && !this.#socket.destroyed;
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.options.host!, port: this.options.port! });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.setNoDelay(true);
        this.#socket = socket;
        socket.on('data', (chunk: Buffer) => this.#push(chunk));
        resolve();
      });
    });
  }

  #push(chunk: Buffer): void {
    const { messages, rest } = splitMbap(Buffer.concat([this.#buf, chunk]));
    this.#buf = rest;
    for (const m of messages) {
      const p = this.#pending;
      if (!p || p.tid !== m.tid) continue;
      this.#pending = undefined;
      clearTimeout(p.timer);
      p.resolve(m.pdu);
    }
  }

  async read(r: ModbusRead): Promise<Buffer> {
    const fc = r.function === 'input' ? 4 : 3;
    const request = Buffer.alloc(5);
    request[0] = fc;
    request.writeUInt16BE(r.address, 1);
    request.writeUInt16BE(r.count, 3);
    this.#tid = (this.#tid + 1) & 0xffff;
    const tid = this.#tid;
    const pdu = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending = undefined;
        reject(new MeterhubError('METERHUB_ERR_MODBUS_TIMEOUT', `unit ${r.unitId} did not answer within ${r.timeoutMs} ms`));
      }, r.timeoutMs);
      this.#pending = { tid, resolve, reject, timer };
      this.#socket!.write(mbapFrame(tid, r.unitId, request));
    });
    if (pdu[0] === (fc | 0x80)) throw new ModbusExceptionError(fc, pdu[1] ?? 0);
    return pdu.subarray(2, 2 + r.count * 2);
  }

  async close(): Promise<void> {
    this.#socket?.destroy();
    this.#socket = undefined;
  }
}

/** The old simulator endpoint: requests go to the line straight from the socket's data event. */
export class LegacyTcpEndpoint {
  readonly line: WireLine;
  readonly #server: Server;

  constructor(sim: MeterSimulator, wire: WireEmulation) {
    this.line = new WireLine(wire);
    this.#server = createServer((socket) => {
      socket.setNoDelay(true);
      socket.on('error', () => socket.destroy());
      let pending = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        const { messages, rest } = splitMbap(Buffer.concat([pending, chunk]));
        pending = rest;
        for (const m of messages) {
          const request = { unitId: m.unitId, functionCode: m.pdu[0]!, address: m.pdu.readUInt16BE(1), count: m.pdu.readUInt16BE(3) };
          void this.line.run(8, async () => {
            const reply = sim.handle(request);
            if (reply.kind !== 'reply') return undefined;
            return { bytes: answerBytes(reply.answer), send: () => socket.write(mbapFrame(m.tid, m.unitId, answerPdu(request, reply.answer))) };
          });
        }
      });
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', () => resolve()));
    return (this.#server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
