import { BlockList, isIPv4, type Server, type Socket } from 'node:net';
import { ServerTCP, type IServiceVector } from 'modbus-serial';

/** Answers a client may leave unread (about 6,000 full SDM630 blocks) before it is disconnected. */
const MAX_UNREAD_BYTES = 1 << 20;

export interface ListenerOptions {
  host: string;
  port: number;
  /** Clients allowed to connect; undefined lets every client in. */
  allow: BlockList | undefined;
  maxClients: number;
}

export interface ListenerFigures {
  clients: number;
  connections: number;
  refused: number;
  /** Clients dropped because more than a megabyte of answers waited unread for them. */
  slowReadersDropped: number;
  requests: number;
  exceptions: Record<string, number>;
}

/**
 * `modbus-serial`'s Modbus TCP server with what a shared server needs around
 * it: an allow-list and a client cap applied the moment a connection opens
 * (before a byte is read), and counts of clients, answers and exceptions.
 */
export class TcpListener {
  readonly #server: ServerTCP;
  readonly #figures: ListenerFigures = { clients: 0, connections: 0, refused: 0, slowReadersDropped: 0, requests: 0, exceptions: {} };
  readonly ready: Promise<void>;

  constructor(vector: IServiceVector, readonly opts: ListenerOptions, onSocketError: (err: unknown) => void) {
    // unitID 255: every unit id reaches the vector, which knows which meters exist.
    this.#server = new ServerTCP(vector, { host: opts.host, port: opts.port, unitID: 255 });
    const net = (this.#server as unknown as { _server: Server })._server;
    // Ahead of the library's own listener, so a refused client is gone before it is set up.
    net.prependListener('connection', (sock: Socket) => this.#admit(sock));
    this.#server.on('socketError', onSocketError);
    this.ready = new Promise<void>((resolve, reject) => {
      this.#server.once('initialized', () => resolve());
      this.#server.once('serverError', (err: NodeJS.ErrnoException) => reject(err));
    });
  }

  #admit(sock: Socket): void {
    const f = this.#figures;
    if (!this.#allowed(sock.remoteAddress) || f.clients >= this.opts.maxClients) {
      f.refused++;
      sock.destroy();
      return;
    }
    f.connections++;
    f.clients++;
    // A client that vanished (power cut, cable) must not hold its slot forever.
    sock.setKeepAlive(true, 30_000);
    sock.once('close', () => f.clients--);
    // The library writes each reply as one MBAP frame: count answers and exception codes there.
    const write = sock.write.bind(sock) as (frame: Buffer) => boolean;
    (sock as { write: (frame: Buffer) => boolean }).write = (frame: Buffer) => {
      if (sock.destroyed) return false;
      f.requests++;
      if (frame.length >= 9 && (frame[7]! & 0x80) !== 0) {
        const code = frame[8]!.toString(16).padStart(2, '0').toUpperCase();
        f.exceptions[code] = (f.exceptions[code] ?? 0) + 1;
      }
      const ok = write(frame);
      // A client that sends requests but never reads the answers would grow this buffer without end.
      if (sock.writableLength > MAX_UNREAD_BYTES) {
        f.slowReadersDropped++;
        sock.destroy();
      }
      return ok;
    };
  }

  #allowed(address: string | undefined): boolean {
    const allow = this.opts.allow;
    if (!allow) return true;
    if (!address) return false;
    // An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d.
    const v4 = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : undefined;
    return v4 ? allow.check(v4, 'ipv4') : allow.check(address, isIPv4(address) ? 'ipv4' : 'ipv6');
  }

  /** The bound port (the configured one once listening). */
  get port(): number {
    const address = (this.#server as unknown as { _server: Server })._server.address();
    return typeof address === 'object' && address ? address.port : this.opts.port;
  }

  figures(): ListenerFigures {
    return { ...this.#figures, exceptions: { ...this.#figures.exceptions } };
  }

  /** Stops listening and drops every client. */
  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
