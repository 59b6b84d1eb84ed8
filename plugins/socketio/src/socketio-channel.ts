import { Server as EngineServer } from 'engine.io';
import { Server, type Namespace, type Socket } from 'socket.io';
import {
  LIVE_PROTOCOL_VERSION, credentialsFromRequest, describeError, isMeterhubError, requireReadAccess,
  type Credentials, type CredentialsChange, type HostApi, type LiveReadingMessage, type MeterStateEvent, type Principal, type Reading,
} from '@meterhub/sdk';
import { affectedBy, expiryOf, recheck, REVOKED_MESSAGE } from './credentials.js';
import type { LiveChannel, LiveHub } from './live-hub.js';
import { errorAck, okAck, readingMessage, stateMessage } from './live-messages.js';
import type { LiveClient, SlowClientBuffer } from './slow-client-buffer.js';
import { ClientSubscription, parseSubscribe, parseUnsubscribe } from './subscription.js';

export interface SocketIoOptions {
  path: string;
  pingIntervalMs: number;
  pingTimeoutMs: number;
}

interface SocketState {
  principal: Principal;
  /** What the client authenticated with, kept to re-check it when credentials change. */
  credentials: Credentials;
  subscription: ClientSubscription;
  client: LiveClient;
  rooms: Set<string>;
  expiry?: NodeJS.Timeout;
}

type LiveSocket = Socket & { data: SocketState };

const ALL = '*';
/** A client with more than this many packets or bytes not yet sent is behind: its readings are held and merged. */
const MAX_QUEUED_PACKETS = 16;
const CONGESTED_BYTES = 64 * 1024;
const roomOf = (filterKey: string, meter: string) => `${filterKey}|${meter}`;
/** The longest a timer may wait in Node; later expiries are re-armed. */
const MAX_TIMER_MS = 2_147_000_000;

function handshakeError(err: unknown): Error {
  const coded = isMeterhubError(err) ? err : undefined;
  const out = new Error(coded?.message ?? describeError(err)) as Error & { data?: unknown };
  out.data = { code: coded?.code ?? 'METERHUB_ERR_UNAUTHORIZED' };
  return out;
}

/**
 * Socket.IO 4 on the host's HTTP server (namespace `/meters`). Clients that
 * follow a meter with the same measurement filter share a room, so a reading
 * is projected and encoded once per filter, not once per client; clients whose
 * connection is backed up are left out of the broadcast and get the newest
 * values once they drain (see SlowClientBuffer).
 */
export class SocketIoChannel implements LiveChannel {
  readonly name = 'socketio';
  readonly io: Server;
  readonly engine: EngineServer;
  readonly nsp: Namespace;
  /** Measurement filters in use by connected clients, with how many use each. */
  readonly #filters = new Map<string, { measurements: readonly string[] | undefined; replay: boolean; users: number }>();
  delivered = 0;

  constructor(private readonly hub: LiveHub, private readonly host: HostApi, private readonly buffer: SlowClientBuffer, opts: SocketIoOptions, adapter?: unknown) {
    this.engine = new EngineServer({
      pingInterval: opts.pingIntervalMs,
      pingTimeout: opts.pingTimeoutMs,
      maxHttpBufferSize: 64 * 1024,
      transports: ['polling', 'websocket'],
    });
    this.io = new Server({ serveClient: false, path: opts.path, ...(adapter ? { adapter: adapter as never } : {}) });
    this.io.bind(this.engine as never);
    this.io.of('/').use((_socket, next) => next(handshakeError(new Error('connect to the /meters namespace'))));
    this.nsp = this.io.of('/meters');
    this.nsp.use((socket, next) => {
      const credentials = credentialsFromRequest(socket.request, { allowQuery: true, extra: socket.handshake.auth as Record<string, unknown> });
      this.host.auth.authenticate(credentials)
        .then((principal) => {
          (socket as LiveSocket).data = this.#stateFor(socket as LiveSocket, requireReadAccess(principal), credentials);
          next();
        }, (err: unknown) => next(handshakeError(err)))
        .catch((err: unknown) => next(handshakeError(err)));
    });
    this.nsp.on('connection', (socket) => this.#onConnection(socket as LiveSocket));
  }

  #stateFor(socket: LiveSocket, principal: Principal, credentials: Credentials): SocketState {
    const client: LiveClient = {
      held: new Map(),
      congested: () => {
        // Packets waiting in the engine (the transport is busy), or bytes the WebSocket could not hand to the kernel.
        const conn = socket.conn as unknown as { writeBuffer: unknown[]; transport: { socket?: { bufferedAmount?: number } } };
        return conn.writeBuffer.length > MAX_QUEUED_PACKETS || (conn.transport.socket?.bufferedAmount ?? 0) > CONGESTED_BYTES;
      },
      sendReading: (message) => {
        this.delivered++;
        socket.emit('reading', message);
      },
    };
    return { principal, credentials, subscription: new ClientSubscription(), client, rooms: new Set() };
  }

  #onConnection(socket: LiveSocket): void {
    const expiresAt = expiryOf(socket.data.principal);
    socket.emit('hello', { type: 'hello', v: LIVE_PROTOCOL_VERSION, server: this.host.settings().name, ...(expiresAt ? { expiresAt } : {}) });
    if (expiresAt) this.#armExpiry(socket, expiresAt);
    socket.on('subscribe', (payload: unknown, ack?: unknown) => void this.#subscribe(socket, payload, ack));
    socket.on('unsubscribe', (payload: unknown, ack?: unknown) => this.#unsubscribe(socket, payload, ack));
    socket.on('disconnect', () => {
      clearTimeout(socket.data.expiry);
      this.buffer.drop(socket.data.client);
      const sub = socket.data.subscription;
      this.#useFilter(sub.empty ? undefined : sub.filterKey, undefined);
    });
  }

  #armExpiry(socket: LiveSocket, expiresAt: number): void {
    const wait = expiresAt - Date.now();
    socket.data.expiry = setTimeout(() => {
      if (wait > MAX_TIMER_MS) {
        this.#armExpiry(socket, expiresAt);
        return;
      }
      this.#end(socket, 'METERHUB_ERR_UNAUTHORIZED', 'the access token has expired; connect again with a new one');
    }, Math.max(0, Math.min(wait, MAX_TIMER_MS)));
  }

  #end(socket: LiveSocket, code: string, message: string): void {
    socket.emit('closing', { type: 'closing', v: LIVE_PROTOCOL_VERSION, code, message });
    socket.disconnect(true);
  }

  #reply(socket: LiveSocket, ack: unknown, body: unknown): void {
    if (typeof ack === 'function') (ack as (b: unknown) => void)(body);
    else socket.emit('ack', body);
  }

  /** Keeps the filter use counts right when a client's subscription changes. */
  #useFilter(beforeKey: string | undefined, after: ClientSubscription | undefined): void {
    if (beforeKey !== undefined) {
      const f = this.#filters.get(beforeKey);
      if (f && --f.users === 0) this.#filters.delete(beforeKey);
    }
    if (after) {
      const f = this.#filters.get(after.filterKey) ?? { measurements: after.measurements, replay: after.replay, users: 0 };
      f.users++;
      this.#filters.set(after.filterKey, f);
    }
  }

  /** Moves the socket to the rooms its subscription implies. */
  #syncRooms(socket: LiveSocket, previous: { filterKey: string; empty: boolean }): void {
    const sub = socket.data.subscription;
    const wanted = new Set(sub.empty ? [] : sub.all ? [roomOf(sub.filterKey, ALL)] : [...sub.meters].map((m) => roomOf(sub.filterKey, m)));
    for (const room of socket.data.rooms) if (!wanted.has(room)) void socket.leave(room);
    for (const room of wanted) if (!socket.data.rooms.has(room)) void socket.join(room);
    socket.data.rooms = wanted;
    if (previous.empty !== sub.empty || previous.filterKey !== sub.filterKey) {
      this.#useFilter(previous.empty ? undefined : previous.filterKey, sub.empty ? undefined : sub);
    }
  }

  async #subscribe(socket: LiveSocket, payload: unknown, ack: unknown): Promise<void> {
    let request;
    try {
      request = parseSubscribe(payload);
      await this.hub.checkMeters(request.meters);
    } catch (err) {
      this.#reply(socket, ack, errorAck((payload as { id?: string | number } | undefined)?.id, err));
      return;
    }
    if (!socket.connected) return;
    const sub = socket.data.subscription;
    const snapshots = await this.hub.snapshots(request.meters, request.measurements ?? sub.measurements);
    const previous = { filterKey: sub.filterKey, empty: sub.empty };
    sub.add(request);
    this.#syncRooms(socket, previous);
    this.#reply(socket, ack, okAck(request.id, sub.describe()));
    for (const snapshot of snapshots) socket.emit('snapshot', snapshot);
  }

  #unsubscribe(socket: LiveSocket, payload: unknown, ack: unknown): void {
    try {
      const request = parseUnsubscribe(payload);
      const sub = socket.data.subscription;
      const previous = { filterKey: sub.filterKey, empty: sub.empty };
      sub.remove(request);
      for (const meter of socket.data.client.held.keys()) if (!sub.follows(meter)) socket.data.client.held.delete(meter);
      this.#syncRooms(socket, previous);
      this.#reply(socket, ack, okAck(request.id, sub.describe()));
    } catch (err) {
      this.#reply(socket, ack, errorAck((payload as { id?: string | number } | undefined)?.id, err));
    }
  }

  #socketsIn(rooms: readonly string[]): Set<string> {
    const ids = new Set<string>();
    for (const room of rooms) this.nsp.adapter.rooms.get(room)?.forEach((id) => ids.add(id));
    return ids;
  }

  publishReading(reading: Reading): void {
    for (const [filterKey, filter] of this.#filters) {
      if (reading.replay && !filter.replay) continue;
      const rooms = [roomOf(filterKey, reading.meterId), roomOf(filterKey, ALL)];
      const ids = this.#socketsIn(rooms);
      if (ids.size === 0) continue;
      const message: LiveReadingMessage = readingMessage(reading, filter.measurements);
      if (Object.keys(message.values).length === 0) continue;
      const behind: string[] = [];
      for (const id of ids) {
        const client = (this.nsp.sockets.get(id) as LiveSocket | undefined)?.data.client;
        // A client with readings held back gets this one through the buffer too, so its order holds.
        if (client && (client.held.size > 0 || client.congested())) {
          this.buffer.hold(client, message);
          behind.push(id);
        }
      }
      if (behind.length === ids.size) continue;
      this.delivered += ids.size - behind.length;
      this.nsp.local.to(rooms).except(behind).emit('reading', message);
    }
  }

  publishState(event: MeterStateEvent): void {
    const rooms = [...this.#filters.keys()].flatMap((k) => [roomOf(k, event.meterId), roomOf(k, ALL)]);
    if (rooms.length) this.nsp.local.to(rooms).emit('meter-state', stateMessage(event));
  }

  clients(): number {
    return this.nsp.sockets.size;
  }

  recheck(change: CredentialsChange | undefined): void {
    for (const s of this.nsp.sockets.values()) {
      const socket = s as LiveSocket;
      if (!socket.data?.principal || !affectedBy(change, socket.data.principal)) continue;
      recheck(this.host, socket.data.credentials).then((principal) => {
        if (principal) socket.data.principal = principal;
        else if (socket.connected) this.#end(socket, 'METERHUB_ERR_UNAUTHORIZED', REVOKED_MESSAGE);
      }, (err: unknown) => this.host.log.debug({ err: describeError(err) }, 'could not re-check a live connection\'s credentials; it stays open'));
    }
  }

  async close(code: string, message: string): Promise<void> {
    for (const socket of this.nsp.sockets.values()) this.#end(socket as LiveSocket, code, message);
    // Server.close() would close the host's HTTP server too; only the engine and the adapter go.
    this.engine.close();
    await this.nsp.adapter.close?.();
  }
}
