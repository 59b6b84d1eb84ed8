import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  LIVE_CLOSE_CODES, LIVE_PROTOCOL_VERSION, MeterhubError, credentialsFromRequest, describeError, httpErrorResponseText, isMeterhubError, requireReadAccess,
  type Credentials, type CredentialsChange, type HostApi, type LiveReadingMessage, type LiveServerMessage, type MeterStateEvent, type Principal, type Reading,
} from '@meterhub/sdk';
import { affectedBy, expiryOf, recheck, REVOKED_MESSAGE } from './credentials.js';
import type { LiveChannel, LiveHub } from './live-hub.js';
import { errorAck, okAck, readingMessage, stateMessage } from './live-messages.js';
import type { LiveClient, SlowClientBuffer } from './slow-client-buffer.js';
import { ClientSubscription, parseSubscribe, parseUnsubscribe } from './subscription.js';

/** Bytes a client may have unsent before its readings are held back and merged. */
const CONGESTED_BYTES = 64 * 1024;

interface WsClient extends LiveClient {
  ws: WebSocket;
  principal: Principal;
  /** What the client authenticated with, kept to re-check it when credentials change. */
  credentials: Credentials;
  subscription: ClientSubscription;
  expiry?: NodeJS.Timeout;
  alive: boolean;
}

/** Refuses the upgrade with the same HTTP answer the REST API gives; an uncoded failure is a 401, not a 500. */
function refuse(socket: Duplex, err: unknown): void {
  socket.end(httpErrorResponseText(isMeterhubError(err) ? err : new MeterhubError('METERHUB_ERR_UNAUTHORIZED', describeError(err))));
}

/**
 * A plain WebSocket at `/ws/meters/` with the same JSON messages as the
 * Socket.IO namespace, one per text frame: for clients of the old system and
 * tools without Socket.IO. Credentials are checked before the handshake, so an
 * unauthenticated client gets an HTTP 401 with a JSON body, not a socket.
 */
export class WsChannel implements LiveChannel {
  readonly name = 'ws';
  readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  readonly #clients = new Set<WsClient>();
  readonly #heartbeat: NodeJS.Timeout;
  delivered = 0;

  constructor(private readonly hub: LiveHub, private readonly host: HostApi, private readonly buffer: SlowClientBuffer, pingIntervalMs: number) {
    // A client that stops answering pings is gone (a laptop that slept): drop it.
    this.#heartbeat = setInterval(() => {
      for (const c of this.#clients) {
        if (!c.alive) c.ws.terminate();
        else {
          c.alive = false;
          c.ws.ping();
        }
      }
    }, pingIntervalMs).unref();
  }

  /** The host's upgrade hook for the endpoint's path. */
  handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const credentials = credentialsFromRequest(req, { allowQuery: true });
    this.host.auth.authenticate(credentials).then((principal) => {
      requireReadAccess(principal);
      this.wss.handleUpgrade(req, socket, head, (ws) => this.#onConnection(ws, principal, credentials));
    }).catch((err: unknown) => refuse(socket, err));
  };

  #send(client: WsClient, message: LiveServerMessage): void {
    client.ws.send(JSON.stringify(message));
  }

  #onConnection(ws: WebSocket, principal: Principal, credentials: Credentials): void {
    const client: WsClient = {
      ws, principal, credentials, subscription: new ClientSubscription(), held: new Map(), alive: true,
      congested: () => ws.bufferedAmount > CONGESTED_BYTES,
      sendReading: (message) => {
        this.delivered++;
        this.#send(client, message);
      },
    };
    this.#clients.add(client);
    const expiresAt = expiryOf(principal);
    this.#send(client, { type: 'hello', v: LIVE_PROTOCOL_VERSION, server: this.host.settings().name, ...(expiresAt ? { expiresAt } : {}) });
    if (expiresAt) {
      client.expiry = setTimeout(() => this.#end(client, LIVE_CLOSE_CODES.unauthorized, 'METERHUB_ERR_UNAUTHORIZED', 'the access token has expired; connect again with a new one'),
        Math.max(0, Math.min(expiresAt - Date.now(), 2_147_000_000)));
    }
    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('message', (data: RawData, isBinary: boolean) => void this.#onMessage(client, data, isBinary));
    ws.on('close', () => {
      clearTimeout(client.expiry);
      this.buffer.drop(client);
      this.#clients.delete(client);
    });
    ws.on('error', () => ws.terminate());
  }

  #end(client: WsClient, closeCode: number, code: string, message: string): void {
    this.#send(client, { type: 'closing', v: LIVE_PROTOCOL_VERSION, code, message });
    client.ws.close(closeCode, message.slice(0, 120));
  }

  async #onMessage(client: WsClient, data: RawData, isBinary: boolean): Promise<void> {
    let parsed: { type?: unknown; id?: string | number } | undefined;
    try {
      if (isBinary) throw new Error('send JSON text frames');
      parsed = JSON.parse(data.toString()) as typeof parsed;
      if (parsed?.type === 'subscribe') {
        const request = parseSubscribe(parsed);
        await this.hub.checkMeters(request.meters);
        const snapshots = await this.hub.snapshots(request.meters, request.measurements ?? client.subscription.measurements);
        client.subscription.add(request);
        this.#send(client, okAck(request.id, client.subscription.describe()));
        for (const snapshot of snapshots) this.#send(client, snapshot);
      } else if (parsed?.type === 'unsubscribe') {
        const request = parseUnsubscribe(parsed);
        client.subscription.remove(request);
        for (const meter of client.held.keys()) if (!client.subscription.follows(meter)) client.held.delete(meter);
        this.#send(client, okAck(request.id, client.subscription.describe()));
      } else {
        throw Object.assign(new Error('unknown message type: expected "subscribe" or "unsubscribe"'), { path: '/type' });
      }
    } catch (err) {
      const path = (err as { path?: string }).path;
      const coded = isMeterhubError(err) ? err
        : new MeterhubError('METERHUB_ERR_VALIDATION', describeError(err), { details: [{ path: path ?? '/', message: describeError(err) }] });
      if (client.ws.readyState === client.ws.OPEN) this.#send(client, errorAck(parsed?.id, coded));
    }
  }

  publishReading(reading: Reading): void {
    // One projection and one JSON text per measurement filter, shared by the clients using it.
    const frames = new Map<string, { message: LiveReadingMessage; text?: string }>();
    for (const client of this.#clients) {
      const sub = client.subscription;
      if (!sub.follows(reading.meterId) || (reading.replay && !sub.replay)) continue;
      let frame = frames.get(sub.filterKey);
      if (!frame) {
        frame = { message: readingMessage(reading, sub.measurements) };
        frames.set(sub.filterKey, frame);
      }
      if (Object.keys(frame.message.values).length === 0) continue;
      if (client.held.size > 0 || client.congested()) {
        this.buffer.hold(client, frame.message);
        continue;
      }
      frame.text ??= JSON.stringify(frame.message);
      this.delivered++;
      client.ws.send(frame.text);
    }
  }

  publishState(event: MeterStateEvent): void {
    let text: string | undefined;
    for (const client of this.#clients) {
      if (!client.subscription.follows(event.meterId)) continue;
      text ??= JSON.stringify(stateMessage(event));
      client.ws.send(text);
    }
  }

  clients(): number {
    return this.#clients.size;
  }

  recheck(change: CredentialsChange | undefined): void {
    for (const client of this.#clients) {
      if (!affectedBy(change, client.principal)) continue;
      recheck(this.host, client.credentials).then((principal) => {
        if (principal) client.principal = principal;
        else if (client.ws.readyState === client.ws.OPEN) this.#end(client, LIVE_CLOSE_CODES.unauthorized, 'METERHUB_ERR_UNAUTHORIZED', REVOKED_MESSAGE);
      }, (err: unknown) => this.host.log.debug({ err: describeError(err) }, 'could not re-check a live connection\'s credentials; it stays open'));
    }
  }

  async close(code: string, message: string): Promise<void> {
    clearInterval(this.#heartbeat);
    for (const client of this.#clients) this.#end(client, LIVE_CLOSE_CODES.goingAway, code, message);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    for (const client of this.#clients) client.ws.terminate();
  }
}
