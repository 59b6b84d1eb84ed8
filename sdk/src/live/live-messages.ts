/**
 * The live stream's messages (Socket.IO namespace `/meters` and the plain
 * WebSocket `/ws/meters/`). The shape is versioned: `v` is
 * LIVE_PROTOCOL_VERSION; fields are only ever added within a version, and a
 * change that breaks a client raises it.
 *
 * Socket.IO: the event name is the message's `type`, the payload the message.
 * Plain WebSocket: each text frame is one message as JSON.
 */

import type { MeterState } from '../plugin/host-services.js';

export const LIVE_PROTOCOL_VERSION = 1;

/** @deprecated The same type as `MeterState`; use that. */
export type LiveMeterState = MeterState;

/** Sent once after the connection is authenticated. */
export interface LiveHelloMessage {
  type: 'hello';
  v: typeof LIVE_PROTOCOL_VERSION;
  /** The host's instance name. */
  server: string;
  /** Epoch ms when the credentials stop being valid (access tokens); absent for API keys. */
  expiresAt?: number;
}

/** Client → server: follow meters (adds to what the client already follows). */
export interface LiveSubscribeRequest {
  type?: 'subscribe';
  /** Meter ids, or `"*"` for every meter. */
  meters: string[] | '*';
  /** Only these measurement ids; absent for all. Applies to every meter this client follows. */
  measurements?: string[];
  /**
   * Readings marked `replay` (a collector's backlog, a backfill: older than the
   * meter's newest): `true` (default) sends them with `"replay": true`, `false`
   * leaves them out. Applies to everything this client follows.
   */
  replay?: boolean;
  /** Plain WebSocket only: echoed in the `ack`, to match answers to requests. */
  id?: string | number;
}

/** Client → server: stop following meters (`"*"`: all). */
export interface LiveUnsubscribeRequest {
  type?: 'unsubscribe';
  meters: string[] | '*';
  id?: string | number;
}

/** The answer to a subscribe or unsubscribe (the Socket.IO acknowledgement, or a frame on the plain WebSocket). */
export type LiveAck =
  | { type: 'ack'; v: typeof LIVE_PROTOCOL_VERSION; id?: string | number; ok: true; meters: string[] | '*'; measurements?: string[]; replay?: boolean }
  | { type: 'ack'; v: typeof LIVE_PROTOCOL_VERSION; id?: string | number; ok: false; error: { code: string; message: string; details?: Array<{ path: string; message: string }> } };

/** The newest known values of a meter, sent right after a subscribe. */
export interface LiveSnapshotMessage {
  type: 'snapshot';
  v: typeof LIVE_PROTOCOL_VERSION;
  meterId: string;
  /** Epoch ms of the newest value, or null when nothing was read yet. */
  ts: number | null;
  values: Record<string, number>;
  state: MeterState;
}

/**
 * One reading of one meter, in vocabulary ids and units: the same shape
 * whether it was polled here, submitted over REST or forwarded by a collector.
 */
export interface LiveReadingMessage {
  type: 'reading';
  v: typeof LIVE_PROTOCOL_VERSION;
  meterId: string;
  /** Epoch ms of the reading. */
  ts: number;
  values: Record<string, number>;
  /** Where the reading came from (`poll`, `push`, `uplink` or a plugin id). */
  source?: string;
  /** Present (true) for a replayed reading: older than the newest values already sent for the meter. */
  replay?: true;
  /**
   * Present when this client fell behind and readings were merged: how many
   * readings of this meter were folded into this one (newest value per measurement kept).
   */
  merged?: number;
}

/** A meter went online, offline or stale. */
export interface LiveMeterStateMessage {
  type: 'meter-state';
  v: typeof LIVE_PROTOCOL_VERSION;
  meterId: string;
  state: MeterState;
  /** ISO time of the change. */
  at: string;
  error?: string;
  /** ISO time of the meter's newest reading, when one was received. */
  lastSeen?: string | null;
}

/** Sent just before the server ends a connection, with the reason (e.g. the access token expired). */
export interface LiveClosingMessage {
  type: 'closing';
  v: typeof LIVE_PROTOCOL_VERSION;
  code: string;
  message: string;
}

/** Everything the server sends. */
export type LiveServerMessage =
  | LiveHelloMessage | LiveAck | LiveSnapshotMessage | LiveReadingMessage | LiveMeterStateMessage | LiveClosingMessage;

/** Close codes of the plain WebSocket (4000-4999 are the application's). */
export const LIVE_CLOSE_CODES = {
  /** The credentials expired or were revoked while connected. */
  unauthorized: 4001,
  /** The host is shutting down. */
  goingAway: 1001,
} as const;
