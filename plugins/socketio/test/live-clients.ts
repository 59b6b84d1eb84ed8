import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import type { LiveServerMessage } from '@meterhub/sdk';

type Message = LiveServerMessage & Record<string, any>;

/** Collects what a live client receives, with waits on it. */
abstract class Collector {
  readonly messages: Message[] = [];
  closed: { reason: string } | undefined;

  of<T extends Message['type']>(type: T, meterId?: string): Message[] {
    return this.messages.filter((m) => m.type === type && (meterId === undefined || m['meterId'] === meterId));
  }

  async until(what: string, predicate: () => boolean, timeoutMs = 8000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages.map((m) => m.type))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

const EVENTS = ['hello', 'snapshot', 'reading', 'meter-state', 'closing', 'ack'] as const;

/** A real socket.io-client on the `/meters` namespace. */
export class SioClient extends Collector {
  readonly socket: Socket;
  connectError: (Error & { data?: { code?: string } }) | undefined;

  /** `base` is the server's origin; `opts.path` the Socket.IO path when it is not /socket.io (a base path, a proxy's sub-path). */
  constructor(base: string, auth: Record<string, string> = {}, opts: { transports?: string[]; extraHeaders?: Record<string, string>; path?: string } = {}) {
    super();
    this.socket = io(`${base}/meters`, {
      auth, reconnection: false, transports: opts.transports ?? ['websocket'], forceNew: true,
      ...(opts.extraHeaders ? { extraHeaders: opts.extraHeaders } : {}), ...(opts.path ? { path: opts.path } : {}),
    });
    for (const e of EVENTS) this.socket.on(e, (m: Message) => this.messages.push(m));
    this.socket.on('connect_error', (err) => {
      this.connectError = err as Error & { data?: { code?: string } };
    });
    this.socket.on('disconnect', (reason) => {
      this.closed = { reason };
    });
  }

  async connected(): Promise<void> {
    await this.until('connect', () => this.socket.connected || this.connectError !== undefined);
    if (this.connectError) throw this.connectError;
  }

  async refused(): Promise<Error & { data?: { code?: string } }> {
    await this.until('connect_error', () => this.connectError !== undefined || this.socket.connected);
    if (!this.connectError) throw new Error('the connection was accepted');
    return this.connectError;
  }

  subscribe(request: Record<string, unknown>): Promise<any> {
    return this.socket.timeout(5000).emitWithAck('subscribe', request);
  }

  unsubscribe(request: Record<string, unknown>): Promise<any> {
    return this.socket.timeout(5000).emitWithAck('unsubscribe', request);
  }

  /** Stops reading from the TCP connection, like a client stuck on a slow link. */
  pauseReading(): void {
    (this.socket.io.engine.transport as unknown as { ws: { _socket: { pause(): void } } }).ws._socket.pause();
  }

  resumeReading(): void {
    (this.socket.io.engine.transport as unknown as { ws: { _socket: { resume(): void } } }).ws._socket.resume();
  }

  close(): void {
    this.socket.close();
  }
}

/** A plain WebSocket client of `/ws/meters/`. */
export class WsClient extends Collector {
  readonly ws: WebSocket;
  status: number | undefined;
  body = '';
  opened = false;
  closeCode: number | undefined;

  constructor(url: string, headers: Record<string, string> = {}) {
    super();
    this.ws = new WebSocket(url, { headers });
    this.ws.on('open', () => {
      this.opened = true;
    });
    this.ws.on('message', (data) => this.messages.push(JSON.parse(data.toString()) as Message));
    this.ws.on('unexpected-response', (_req, res) => {
      this.status = res.statusCode;
      res.on('data', (c: Buffer) => {
        this.body += c.toString();
      });
      res.on('end', () => {
        this.closed = { reason: 'refused' };
      });
    });
    this.ws.on('error', () => undefined);
    this.ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closed = { reason: reason.toString() };
    });
  }

  async open(): Promise<void> {
    await this.until('open', () => this.opened || this.closed !== undefined);
    if (!this.opened) throw new Error(`refused: ${this.status} ${this.body}`);
  }

  send(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  close(): void {
    this.ws.close();
  }
}
