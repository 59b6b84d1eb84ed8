import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import type { ServerTCP, IServiceVector } from 'modbus-serial';
import { MeterhubError } from '../errors/error-catalog.js';
import { FC } from '../transport/modbus-codes.js';
import type { MeterSimulator, ModbusRequest, SimulatorAnswer } from './meter-simulator.js';
import { answerBytes, answerPdu, rtuFrame, RtuRequestReader } from './rtu-server-framing.js';
import { WireLine, type WireEmulation } from './wire-line.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Counters an endpoint keeps, for tests and `meterhub simulate`. */
export interface EndpointStats {
  requests: number;
  crcErrors: number;
  connections: number;
}

/**
 * Runs one request through the line: the simulator decides, faults delay or
 * silence it, and `send` gets the answer when its bytes would have left the wire.
 */
function serve(
  sim: MeterSimulator, line: WireLine, stats: EndpointStats, request: ModbusRequest, requestBytes: number,
  send: (answer: SimulatorAnswer, corruptCrc: boolean) => void, drop: () => void, receivedAt?: number,
): void {
  stats.requests++;
  void line.run(requestBytes, async () => {
    const reply = sim.handle(request);
    if (reply.kind === 'silent') return undefined;
    if (reply.kind === 'drop') {
      drop();
      return undefined;
    }
    if (reply.delayMs > 0) await sleep(reply.delayMs);
    return { bytes: answerBytes(reply.answer), send: () => send(reply.answer, reply.corruptCrc) };
  }, receivedAt);
}

/** Feeds RTU request frames from a byte stream to the simulator, replying on the same stream. */
function rtuSession(sim: MeterSimulator, line: WireLine, stats: EndpointStats, write: (b: Buffer) => void, drop: () => void): RtuRequestReader {
  return new RtuRequestReader({
    request(request, bytes) {
      serve(sim, line, stats, request, bytes, (answer, corrupt) => {
        const frame = rtuFrame(request.unitId, answerPdu(request, answer));
        if (corrupt) frame[frame.length - 1]! ^= 0xff;
        write(frame);
      }, drop);
    },
    crcError() {
      stats.crcErrors++;
    },
  });
}

const modbusError = (code: number) => Object.assign(new Error(`exception ${code}`), { modbusErrorCode: code });

type Done<T> = (err: Error | null, value: T) => void;

/**
 * The vector `modbus-serial`'s ServerTCP calls. Every function takes a node
 * callback (the library picks the style by arity), so that an absent or silent
 * unit can simply never call back: the server then sends nothing.
 */
function serviceVector(sim: MeterSimulator, line: WireLine, stats: EndpointStats, drop: () => void, receivedAt: () => number): IServiceVector {
  const request = <T>(req: ModbusRequest, bytes: number, done: Done<T>, value: (answer: SimulatorAnswer) => T) =>
    // The library reads the values array even on an error (values[i]): hand it an empty one.
    serve(sim, line, stats, req, bytes, (answer) => ('exception' in answer ? done(modbusError(answer.exception), [] as T) : done(null, value(answer))), drop, receivedAt());
  const words = (answer: SimulatorAnswer): number[] => {
    const data = 'registers' in answer ? answer.registers : Buffer.alloc(0);
    return Array.from({ length: data.length / 2 }, (_, i) => data.readUInt16BE(i * 2));
  };
  const read = (functionCode: number) => (address: number, count: number, unitId: number, done: Done<number[]>) =>
    request({ unitId, functionCode, address, count }, 8, done, words);
  const readOne = (functionCode: number) => (address: number, unitId: number, done: Done<number>) =>
    request({ unitId, functionCode, address, count: 1 }, 8, done, (a) => words(a)[0] ?? 0);
  const bits = (functionCode: number) => (address: number, unitId: number, done: Done<boolean>) =>
    request({ unitId, functionCode, address, count: 1 }, 8, done, () => false);
  return {
    getMultipleInputRegisters: read(FC.READ_INPUT),
    getMultipleHoldingRegisters: read(FC.READ_HOLDING),
    getInputRegister: readOne(FC.READ_INPUT),
    getHoldingRegister: readOne(FC.READ_HOLDING),
    getCoil: bits(0x01),
    getDiscreteInput: bits(0x02),
    setRegisterArray: (address: number, values: number[], unitId: number, done: (err: Error | null) => void) =>
      request({ unitId, functionCode: FC.WRITE_MULTIPLE, address, count: values.length, values }, 9 + values.length * 2, done, () => null),
    setRegister: (address: number, value: number, unitId: number, done: (err: Error | null) => void) =>
      request({ unitId, functionCode: FC.WRITE_SINGLE, address, count: 1, values: [value] }, 8, done, () => null),
    setCoil: (address: number, _value: boolean, unitId: number, done: (err: Error | null) => void) =>
      request({ unitId, functionCode: 0x05, address, count: 1 }, 8, done, () => null),
  } as IServiceVector;
}

/** A port that was free a moment ago: ServerTCP treats port 0 as "the default, 502". */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

const requireCjs = createRequire(import.meta.url);

function startServerTcp(vector: IServiceVector, host: string, port: number): Promise<ServerTCP> {
  // Required when a simulator serves Modbus TCP, not when the SDK is imported.
  const { ServerTCP: Server } = requireCjs('modbus-serial') as { ServerTCP: typeof ServerTCP };
  return new Promise((resolve, reject) => {
    const server = new Server(vector, { host, port });
    server.once('initialized', () => resolve(server));
    server.once('serverError', (err: Error | null) => {
      server.close(() => undefined);
      reject(err ?? new Error('listen failed'));
    });
    // A client that resets its connection must not bring the simulator down (unhandled, `error` would throw).
    server.on('socketError', () => undefined);
    server.on('error', () => undefined);
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
 * Serves the simulator over TCP, as a Modbus TCP meter or gateway (`mbap`, on
 * `modbus-serial`'s ServerTCP) or as a transparent RTU-over-TCP converter
 * (`rtu`). All connections share one line, like the single RS485 bus behind a
 * real gateway. The `dropConnection` fault closes every open connection.
 */
export class SimulatorTcpEndpoint {
  readonly stats: EndpointStats = { requests: 0, crcErrors: 0, connections: 0 };
  readonly line: WireLine;
  #modbus: ServerTCP | undefined;
  #raw: Server | undefined;
  readonly #sockets = new Set<Socket>();
  #port = 0;
  /** When the last request bytes came in: ServerTCP hands requests to the vector a timer tick later. */
  #receivedAt = 0;

  constructor(private readonly sim: MeterSimulator, private readonly opts: TcpEndpointOptions) {
    this.line = new WireLine(opts.wire);
  }

  #accept(socket: Socket): void {
    this.stats.connections++;
    this.#sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  async listen(): Promise<number> {
    const host = this.opts.host ?? '127.0.0.1';
    if (this.opts.framing === 'rtu') {
      const server = createServer((socket) => {
        this.#accept(socket);
        const reader = rtuSession(this.sim, this.line, this.stats, (b) => !socket.destroyed && socket.write(b), () => socket.destroy());
        socket.on('data', (chunk: Buffer) => reader.push(chunk));
        socket.on('close', () => reader.reset());
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.opts.port ?? 0, host, () => resolve());
      });
      this.#raw = server;
      this.#port = (server.address() as AddressInfo).port;
      return this.#port;
    }
    const vector = serviceVector(this.sim, this.line, this.stats, () => this.dropConnections(), () => this.#receivedAt);
    for (let attempt = 1; ; attempt++) {
      const port = this.opts.port || (await freePort(host));
      try {
        this.#modbus = await startServerTcp(vector, host, port);
        this.#port = port;
        break;
      } catch (err) {
        // Another process took the free port in between: pick another.
        if (this.opts.port || attempt >= 5 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      }
    }
    (this.#modbus as unknown as { _server: Server })._server.on('connection', (socket: Socket) => {
      this.#accept(socket);
      socket.on('data', () => {
        this.#receivedAt = performance.now();
      });
    });
    return this.#port;
  }

  get port(): number {
    return this.#port;
  }

  /** Drops every open connection (a gateway reboot), leaving the server listening. */
  dropConnections(): void {
    for (const s of this.#sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.dropConnections();
    const modbus = this.#modbus;
    const raw = this.#raw;
    if (modbus) await new Promise<void>((resolve) => modbus.close(() => resolve()));
    if (raw) await new Promise<void>((resolve) => raw.close(() => resolve()));
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
  #reader: RtuRequestReader | undefined;

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
    this.#reader = rtuSession(this.sim, this.line, this.stats, (b) => port.isOpen && port.write(b), () => undefined);
    port.on('data', (chunk) => this.#reader!.push(chunk));
  }

  async close(): Promise<void> {
    this.#reader?.reset();
    const port = this.#port;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
