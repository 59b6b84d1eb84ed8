/**
 * What the pages show live: the meter list, each meter's newest values, state
 * and last-seen time, and the last hour of power for sparklines. Fed by the
 * REST API once and by the Socket.IO stream after that.
 */
import { api, connectLive, type Meter } from './api-client.js';

export interface MeterLive {
  values: Record<string, number>;
  ts: number | null;
  state: string;
  lastSeen: number | null;
  /** [epoch ms, W] of the last hour, oldest first. */
  spark: Array<[number, number]>;
}

const HOUR = 3600_000;
type Listener = () => void;

class LiveStore {
  meters: Meter[] = [];
  live = new Map<string, MeterLive>();
  connected = false;
  loaded = false;
  #listeners = new Set<Listener>();
  #conn: { close(): void } | null = null;
  #scheduled = false;

  subscribe(fn: Listener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Batches notifications to one per animation frame: a burst of readings renders once. */
  #emit(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    requestAnimationFrame(() => {
      this.#scheduled = false;
      for (const fn of this.#listeners) fn();
    });
  }

  entry(id: string): MeterLive {
    let e = this.live.get(id);
    if (!e) {
      e = { values: {}, ts: null, state: 'unknown', lastSeen: null, spark: [] };
      this.live.set(id, e);
    }
    return e;
  }

  async start(): Promise<void> {
    if (this.#conn) return;
    this.#conn = connectLive({
      connection: (up) => { this.connected = up; this.#emit(); },
      snapshot: (s) => {
        const e = this.entry(s.meterId);
        if (s.ts !== null && (e.ts === null || s.ts >= e.ts)) {
          e.values = { ...e.values, ...s.values };
          e.ts = s.ts;
          e.lastSeen = Math.max(e.lastSeen ?? 0, s.ts);
        }
        e.state = s.state;
        this.#emit();
      },
      reading: (r) => {
        const e = this.entry(r.meterId);
        if (e.ts !== null && r.ts < e.ts) return;
        e.values = { ...e.values, ...r.values };
        e.ts = r.ts;
        e.lastSeen = r.ts;
        const power = r.values['power'];
        if (power !== undefined) {
          e.spark.push([r.ts, power]);
          while (e.spark.length && e.spark[0]![0] < r.ts - HOUR) e.spark.shift();
        }
        this.#emit();
      },
      state: (s) => {
        this.entry(s.meterId).state = s.state;
        this.#emit();
      },
    });
    // A revoked session fails here; the page then shows the sign-in form and stop() closes the stream.
    await this.reload().catch(() => undefined);
  }

  /** Reads the meter list again (after an admin change, or at start). */
  async reload(): Promise<void> {
    this.meters = await api.meters();
    for (const m of this.meters) {
      const e = this.entry(m.id);
      if (e.state === 'unknown' || m.status.state === 'disabled') e.state = m.status.state;
      if (m.status.lastSeen) e.lastSeen = Math.max(e.lastSeen ?? 0, Date.parse(m.status.lastSeen));
    }
    this.loaded = true;
    this.#emit();
    await Promise.all(this.meters.map((m) => this.#loadSpark(m.id)));
  }

  async #loadSpark(id: string): Promise<void> {
    const to = new Date();
    try {
      const h = await api.history(id, 'power', { from: new Date(to.getTime() - HOUR), to, measurements: ['power'], points: 120 }, 1);
      const e = this.entry(id);
      const stored = h.results.filter((p) => p.values['power'] !== undefined).map((p) => [Date.parse(p.timestamp), p.values['power']!] as [number, number]);
      const since = stored.at(-1)?.[0] ?? 0;
      e.spark = [...stored, ...e.spark.filter(([t]) => t > since)];
      this.#emit();
    } catch {
      // A meter without power history simply has no sparkline.
    }
  }

  stop(): void {
    this.#conn?.close();
    this.#conn = null;
    this.meters = [];
    this.live.clear();
    this.loaded = false;
  }
}

export const liveStore = new LiveStore();
