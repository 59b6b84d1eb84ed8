import { getMeasurement } from '@meterhub/sdk';
import type { Topics } from './topics.js';

/** Sends one message; resolves when the broker has it (QoS 1/2) or it is written (QoS 0). */
export type Send = (topic: string, payload: string, retain: boolean) => Promise<void>;

export interface StatePublisherOptions {
  topics: Topics;
  mode: 'json' | 'values' | 'both';
  retain: boolean;
  /** The shortest time between two states of a meter. */
  minIntervalMs(meterId: string): number;
  send: Send;
  connected(): boolean;
  onError(err: unknown): void;
}

const CLOCK_STEP_MS = 5 * 60_000;

/** The newest values of one meter and what is left to publish. */
interface MeterEntry {
  ts: number;
  values: Record<string, number>;
  /** Measurements updated since the last publish (values mode sends only these). */
  dirty: Set<string>;
  lastSentAt: number;
  inFlight: boolean;
  timer?: NodeJS.Timeout;
}

/**
 * Publishes meter states. Per meter at most one state is on its way to the
 * broker; readings that arrive meanwhile, during the minimum interval or
 * while the broker is down are merged into the meter's entry (newest values
 * win), so memory is bounded by one entry per meter, a meter's messages never
 * overtake each other, and a slow broker never holds up the reading path.
 */
export class StatePublisher {
  readonly #meters = new Map<string, MeterEntry>();
  readonly #pending = new Set<string>();
  #flushScheduled = false;
  published = 0;
  /** Counter values dropped because they were zero or lower than the last one (a reset to Home Assistant). */
  droppedCounterValues = 0;

  constructor(private readonly options: StatePublisherOptions) {}

  get queued(): number {
    return this.#pending.size;
  }

  add(meterId: string, ts: number, values: Readonly<Record<string, number>>): void {
    let entry = this.#meters.get(meterId);
    if (!entry) {
      entry = { ts, values: {}, dirty: new Set(), lastSentAt: 0, inFlight: false };
      this.#meters.set(meterId, entry);
    }
    // A reading older than the newest (a late forwarded one) must not take the state back in time; one
    // much older means the clock was set back, and waiting for it to catch up would silence the meter.
    if (ts < entry.ts && entry.ts - ts < CLOCK_STEP_MS) return;
    entry.ts = ts;
    for (const id in values) {
      const v = values[id]!;
      if (!Number.isFinite(v)) continue;
      const old = entry.values[id];
      // total_increasing counters: zero or a smaller value reads as a meter reset and is counted twice in statistics.
      if ((v <= 0 || (old !== undefined && v < old)) && getMeasurement(id)?.kind === 'counter') {
        this.droppedCounterValues++;
        continue;
      }
      entry.values[id] = v;
      entry.dirty.add(id);
    }
    if (entry.dirty.size) this.#markPending(meterId);
  }

  /** Sends every meter's full state again (after a reconnect or Home Assistant's birth message). */
  republishAll(): void {
    for (const [id, entry] of this.#meters) {
      for (const m in entry.values) entry.dirty.add(m);
      entry.lastSentAt = 0;
      if (entry.dirty.size) this.#markPending(id);
    }
  }

  /** Sends what waited while the broker was down. */
  resume(): void {
    this.#scheduleFlush();
  }

  /** Forgets a deleted meter. */
  remove(meterId: string): void {
    const entry = this.#meters.get(meterId);
    if (entry?.timer) clearTimeout(entry.timer);
    this.#meters.delete(meterId);
    this.#pending.delete(meterId);
  }

  stop(): void {
    for (const entry of this.#meters.values()) if (entry.timer) clearTimeout(entry.timer);
    this.#pending.clear();
  }

  #markPending(meterId: string): void {
    this.#pending.add(meterId);
    this.#scheduleFlush();
  }

  // One deferred pass for all meters: the reading listener returns at once.
  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (!this.options.connected()) return;
    const now = Date.now();
    for (const meterId of this.#pending) {
      const entry = this.#meters.get(meterId);
      if (!entry) {
        this.#pending.delete(meterId);
        continue;
      }
      if (entry.inFlight || entry.timer) continue;
      const wait = entry.lastSentAt + this.options.minIntervalMs(meterId) - now;
      if (wait > 0) {
        entry.timer = setTimeout(() => {
          entry.timer = undefined;
          this.#scheduleFlush();
        }, wait);
        continue;
      }
      this.#pending.delete(meterId);
      this.#send(meterId, entry, now);
    }
  }

  #send(meterId: string, entry: MeterEntry, now: number): void {
    const { topics, mode, retain, send } = this.options;
    const sends: Promise<void>[] = [];
    if (mode !== 'values') {
      sends.push(send(topics.state(meterId), JSON.stringify({ ts: entry.ts, time: new Date(entry.ts).toISOString(), values: entry.values }), retain));
    }
    if (mode !== 'json') {
      for (const id of entry.dirty) sends.push(send(topics.value(meterId, id), String(entry.values[id]), retain));
    }
    entry.dirty.clear();
    entry.lastSentAt = now;
    entry.inFlight = true;
    Promise.all(sends).then(
      () => {
        this.published++;
      },
      (err: unknown) => {
        // Not acknowledged (the connection dropped): send the newest state again once it is back.
        for (const m in entry.values) entry.dirty.add(m);
        this.options.onError(err);
      },
    ).finally(() => {
      entry.inFlight = false;
      if (entry.dirty.size && this.#meters.get(meterId) === entry) this.#markPending(meterId);
    });
  }
}
