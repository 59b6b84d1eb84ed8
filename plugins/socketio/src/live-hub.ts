import {
  LIVE_PROTOCOL_VERSION, MeterhubError,
  type CredentialsChange, type HostApi, type MeterState, type LiveSnapshotMessage, type MeterStateEvent, type Reading,
} from '@meterhub/sdk';
import { project } from './live-messages.js';

/** One way clients connect (Socket.IO, plain WebSocket). */
export interface LiveChannel {
  readonly name: string;
  publishReading(reading: Reading): void;
  publishState(event: MeterStateEvent): void;
  clients(): number;
  /** Tells every client why it is being disconnected, then closes. */
  close(code: string, message: string): Promise<void>;
  /** Re-checks the credentials of the connections `change` concerns (all of them without one) and closes those refused now. */
  recheck(change: CredentialsChange | undefined): void;
}

/** Carries readings and states to other host instances (Redis) and back. */
export interface LiveBridge {
  forwardReading(reading: Reading): void;
  forwardState(event: MeterStateEvent): void;
}

/**
 * The transport-neutral part of the live stream: it follows the host's
 * readings and meter states, answers snapshots from the host's one
 * latest-values store, and hands each event to every channel once. Only the
 * newest values of meters seen through the bridge (other instances) are kept
 * here, since they never pass this host's pipeline.
 */
export class LiveHub {
  readonly #channels: LiveChannel[] = [];
  readonly #remoteLatest = new Map<string, { ts: number; values: Record<string, number> }>();
  readonly #states = new Map<string, MeterStateEvent>();
  /** Meters seen from other instances: accepted in subscriptions though not in the local registry. */
  readonly #remoteMeters = new Set<string>();
  bridge: LiveBridge | undefined;
  readings = 0;

  constructor(private readonly host: HostApi) {}

  attach(channel: LiveChannel): void {
    this.#channels.push(channel);
  }

  get channels(): readonly LiveChannel[] {
    return this.#channels;
  }

  /**
   * Follows the host; the subscriptions are disposed with the plugin. Besides
   * the host's revocation events, every connection's credentials are checked
   * again each `recheckMs`: that catches changes made by another process
   * (`meterhub key revoke` while the host runs), which raise no event here.
   */
  start(recheckMs: number): void {
    const timer = setInterval(() => {
      for (const channel of this.#channels) channel.recheck(undefined);
    }, recheckMs).unref();
    this.host.onStop(() => clearInterval(timer));
    for (const event of this.host.meterStates.current()) this.#states.set(event.meterId, event);
    this.host.readings.subscribe((reading) => this.onReading(reading, false));
    this.host.meterStates.subscribe((event) => this.onState(event, false));
    // Revocation closes live connections too: a revoked key must not keep receiving readings.
    this.host.auth.onCredentialsChanged((change) => {
      for (const channel of this.#channels) channel.recheck(change);
    });
  }

  onReading(reading: Reading, remote: boolean): void {
    this.readings++;
    if (remote) {
      this.#remoteMeters.add(reading.meterId);
      const known = this.#remoteLatest.get(reading.meterId);
      if (!reading.replay && (!known || reading.ts >= known.ts)) this.#remoteLatest.set(reading.meterId, { ts: reading.ts, values: { ...known?.values, ...reading.values } });
    }
    for (const channel of this.#channels) channel.publishReading(reading);
    if (!remote) this.bridge?.forwardReading(reading);
  }

  onState(event: MeterStateEvent, remote: boolean): void {
    if (remote) this.#remoteMeters.add(event.meterId);
    this.#states.set(event.meterId, event);
    for (const channel of this.#channels) channel.publishState(event);
    if (!remote) this.bridge?.forwardState(event);
  }

  /** Meter ids a client may follow: the registry's and, with a bridge, any other instance's. */
  async knownMeters(): Promise<Set<string>> {
    const ids = new Set((await this.host.meters.list()).map((m) => m.id));
    for (const id of this.#remoteMeters) ids.add(id);
    return ids;
  }

  /**
   * Checks requested ids against the known meters. With a bridge an unknown id
   * may belong to an instance that has not published yet, so it is accepted.
   */
  async checkMeters(meters: readonly string[] | '*'): Promise<void> {
    if (meters === '*' || this.bridge) return;
    const known = await this.knownMeters();
    const details = meters.flatMap((id, i) => (known.has(id) ? [] : [{ path: `/meters/${i}`, message: `no meter "${id}"` }]));
    if (details.length) throw new MeterhubError('METERHUB_ERR_VALIDATION', details.map((d) => d.message).join('; '), { details });
  }

  state(meterId: string): MeterState {
    return this.#states.get(meterId)?.state ?? 'unknown';
  }

  /** The newest values of each meter (the host's latest-values store, or what the bridge brought), narrowed to `measurements`. */
  async snapshots(meters: readonly string[] | '*', measurements: readonly string[] | undefined): Promise<LiveSnapshotMessage[]> {
    const ids = meters === '*' ? [...(await this.knownMeters())].sort() : meters;
    return ids.map((meterId) => {
      let ts: number | null = null;
      const values: Record<string, number> = {};
      for (const family of ['power', 'energy'] as const) {
        const stored = this.host.storage.latest(meterId, family);
        if (!stored) continue;
        Object.assign(values, stored.values);
        ts = Math.max(ts ?? 0, stored.ts);
      }
      const seen = this.#remoteLatest.get(meterId);
      if (seen && seen.ts >= (ts ?? 0)) {
        Object.assign(values, seen.values);
        ts = seen.ts;
      }
      return { type: 'snapshot', v: LIVE_PROTOCOL_VERSION, meterId, ts, values: project(values, measurements), state: this.state(meterId) };
    });
  }

  clients(): Record<string, number> {
    return Object.fromEntries(this.#channels.map((c) => [c.name, c.clients()]));
  }

  async close(code: string, message: string): Promise<void> {
    await Promise.all(this.#channels.map((c) => c.close(code, message)));
  }
}
