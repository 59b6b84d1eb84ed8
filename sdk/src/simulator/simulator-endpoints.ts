import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { MeterhubError } from '../errors/error-catalog.js';
import { mbapFrame, rtuFrame, splitMbap } from '../modbus/modbus-framing.js';
import { RtuStreamParser } from '../modbus/rtu-stream-parser.js';
import type { MeterSimulator, SimulatorReply } from './meter-simulator.js';
import { WireLine, type WireEmulation } from './wire-line.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Counters an endpoint keeps, for tests and `meterhub simulate`. */
export interface EndpointStats {
  requests: number;
  crcErrors: number;
  connections: number;
}

/** Sends a decided reply after its fault delay; returns what the line needs to time it. */
async function outgoing(reply: SimulatorReply, frame: (pdu: Buffer, corrupt: boolean) => Buffer, write: (b: Buffer) => void, drop: () => void) {
  if (reply.kind === 'silent') return undefined;
  if (reply.kind === 'drop') {
    drop();
    return undefined;
  }
  if (reply.delayMs > 0) await sleep(reply.delayMs);
  const bytes = frame(reply.pdu, reply.corruptCrc);
  return { bytes: reply.pdu.length + 3, send: () => write(bytes) };
}

function rtuReplyFrame(unitId: number) {
  return (pdu: Buffer, corrupt: boolean): Buffer => {
    const f = rtuFrame(unitId, pdu);
    if (corrupt) f[f.length - 1]! ^= 0xff;
    return f;
  };
}

/** Feeds RTU frames from a byte stream to the simulator, replying on the same stream. */
function rtuSession(sim: MeterSimulator, line: WireLine, stats: EndpointStats, write: (b: Buffer) => void, drop: () => void): RtuStreamParser {
  return new RtuStreamParser('request', {
    frame(frame) {
      stats.requests++;
      const unitId = frame[0]!;
      const pdu = frame.subarray(1, frame.length - 2);
      void line.run(frame.length, () => outgoing(sim.handle(unitId, pdu), rtuReplyFrame(unitId), write, drop));
    },
    discard(_bytes, reason) {
      // A real meter ignores a frame with a bad CRC; it never answers it.
      if (reason === 'crc') stats.crcErrors++;
    },
  });
}

export interface TcpEndpointOptions {
  host?: string;
  port?: number;
  /** `mbap`: Modbus TCP. `rtu`: raw RTU frames, as a transparent serial-to-TCP gateway passes them. */
  framing: 'mbap' | 'rtu';
  /** Emulate the RS485 line behind a gateway (one request at a time, wire-speed replies). */
  wire?: WireEmulation;
}

/**
 * Serves the simulator over TCP, as a Modbus TCP meter or gateway (`mbap`) or
 * as a transparent RTU-over-TCP converter (`rtu`). All connections share one
 * line, like the single RS485 bus behind a real gateway.
 */
export class SimulatorTcpEndpoint {
  readonly stats: EndpointStats = { requests: 0, crcErrors: 0, connections: 0 };
  readonly line: WireLine;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  constructor(private readonly sim: MeterSimulator, private readonly opts: TcpEndpointOptions) {
    this.line = new WireLine(opts.wire);
    this.#server = createServer((socket) => this.#accept(socket));
  }

  #accept(socket: Socket): void {
    this.stats.connections++;
    this.#sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const write = (b: Buffer) => {
      if (!socket.destroyed) socket.write(b);
    };
    const drop = () => socket.destroy();
    if (this.opts.framing === 'rtu') {
      const parser = rtuSession(this.sim, this.line, this.stats, write, drop);
      socket.on('data', (chunk: Buffer) => parser.push(chunk));
      socket.on('close', () => parser.reset());
      return;
    }
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      const { messages, rest, garbage } = splitMbap(pending.length ? Buffer.concat([pending, chunk]) : chunk);
      // Not Modbus TCP (an RTU frame, say): a real device ignores it.
      pending = garbage ? Buffer.alloc(0) : rest;
      for (const m of messages) {
        this.stats.requests++;
        const frame = (pdu: Buffer) => mbapFrame(m.transactionId, m.unitId, pdu);
        void this.line.run(m.pdu.length + 3, () => outgoing(this.sim.handle(m.unitId, m.pdu), frame, write, drop));
      }
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    return this.port;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Drops every open connection (a gateway reboot), leaving the server listening. */
  dropConnections(): void {
    for (const s of this.#sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

export interface SerialEndpointOptions {
  path: string;
  baud?: number;
  parity?: 'none' | 'even' | 'odd';
  dataBits?: 7 | 8;
  stopBits?: 1 | 2;
  wire?: WireEmulation;
}

interface SerialPortLike {
  write(b: Buffer): void;
  on(event: 'data', cb: (b: Buffer) => void): void;
  close(cb: (err?: Error | null) => void): void;
  isOpen: boolean;
}

/**
 * Serves the simulator as RTU on a serial device, e.g. one end of a socat pty
 * pair for tests, or a real RS485 adapter. Needs the optional `serialport`
 * dependency.
 */
export class SimulatorSerialEndpoint {
  readonly stats: EndpointStats = { requests: 0, crcErrors: 0, connections: 0 };
  readonly line: WireLine;
  #port: SerialPortLike | undefined;
  #parser: RtuStreamParser | undefined;

  constructor(private readonly sim: MeterSimulator, private readonly opts: SerialEndpointOptions) {
    this.line = new WireLine(opts.wire);
  }

  async open(): Promise<void> {
    let mod: { SerialPort: new (o: Record<string, unknown>, cb: (err: Error | null) => void) => SerialPortLike };
    try {
      mod = (await import('serialport')) as unknown as typeof mod;
    } catch (err) {
      throw new MeterhubError('METERHUB_ERR_SIMULATOR', 'serving RTU on a serial port needs the "serialport" package', { cause: err });
    }
    const o = this.opts;
    await new Promise<void>((resolve, reject) => {
      this.#port = new mod.SerialPort(
        { path: o.path, baudRate: o.baud ?? 9600, parity: o.parity ?? 'none', dataBits: o.dataBits ?? 8, stopBits: o.stopBits ?? 1 },
        (err) => (err ? reject(new MeterhubError('METERHUB_ERR_SIMULATOR', `cannot open ${o.path}: ${err.message}`, { cause: err })) : resolve()),
      );
    });
    const port = this.#port!;
    this.stats.connections = 1;
    this.#parser = rtuSession(this.sim, this.line, this.stats, (b) => port.isOpen && port.write(b), () => undefined);
    port.on('data', (chunk) => this.#parser!.push(chunk));
  }

  async close(): Promise<void> {
    this.#parser?.reset();
    const port = this.#port;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
