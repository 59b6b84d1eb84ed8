import type { MeterState, Reading } from '@meterhub/sdk';
import type { MeterConfig } from '../config/host-config.js';
import type { LatestValuesStore } from './latest-values.js';
import type { MeterStateFeed } from './meter-state-feed.js';

interface Tracked {
  staleAfterMs: number;
  state: MeterState;
  timer: NodeJS.Timeout | undefined;
}

/** A pushed meter's silence before `stale`: its own setting, else 3× its expected interval, else the host's default. */
export function staleAfterMs(meter: Pick<MeterConfig, 'staleAfterMs' | 'expectedIntervalMs'>, fallbackMs: number): number {
  return meter.staleAfterMs ?? (meter.expectedIntervalMs !== undefined ? 3 * meter.expectedIntervalMs : fallbackMs);
}

/**
 * States of pushed meters (meters without a bus), derived from their
 * readings: `online` while the newest reading is younger than the meter's
 * stale time, `stale` once it is older, `unknown` before the first one. The
 * time is the newest reading's own timestamp (a replayed backlog of old
 * readings does not make a meter online), capped at now (a clock ahead does
 * not keep it online forever). One timer per meter, armed only while online.
 */
export class PushedMeterStates {
  readonly #meters = new Map<string, Tracked>();

  constructor(
    private readonly feed: MeterStateFeed,
    private readonly latest: LatestValuesStore,
    private readonly fallbackMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The registry's meters changed: tracks those without a bus, with their current state. */
  setMeters(meters: readonly MeterConfig[]): void {
    const pushed = new Map(meters.filter((m) => m.bus === undefined).map((m) => [m.id, m]));
    for (const [id, t] of this.#meters) {
      if (pushed.has(id)) continue;
      clearTimeout(t.timer);
      this.#meters.delete(id);
      this.feed.forget(id);
    }
    for (const [id, m] of pushed) {
      const after = staleAfterMs(m, this.fallbackMs);
      const known = this.#meters.get(id);
      if (known) {
        known.staleAfterMs = after;
        this.#check(id, known);
        continue;
      }
      const t: Tracked = { staleAfterMs: after, state: 'unknown', timer: undefined };
      this.#meters.set(id, t);
      this.feed.publish({ meterId: id, state: 'unknown', at: new Date(this.now()).toISOString() });
      this.#check(id, t);
    }
  }

  /** A reading arrived (called by the pipeline after the latest values took it). */
  note(reading: Reading): void {
    const t = this.#meters.get(reading.meterId);
    if (t && t.state !== 'online') this.#check(reading.meterId, t);
    // While online the armed timer re-checks at the stale time; nothing to do per reading.
  }

  #check(id: string, t: Tracked): void {
    const seen = this.latest.newestTs(id);
    // No reading yet: `unknown` until the first one.
    if (seen === undefined) return;
    const now = this.now();
    const newest = Math.min(seen, now);
    const left = newest + t.staleAfterMs - now;
    const state: MeterState = left > 0 ? 'online' : 'stale';
    if (state !== t.state) {
      t.state = state;
      this.feed.publish({ meterId: id, state, at: new Date(now).toISOString() });
    }
    clearTimeout(t.timer);
    t.timer = undefined;
    if (state === 'online') {
      t.timer = setTimeout(() => {
        t.timer = undefined;
        if (this.#meters.get(id) === t) this.#check(id, t);
      }, left + 1);
      t.timer.unref();
    }
  }

  close(): void {
    for (const t of this.#meters.values()) clearTimeout(t.timer);
    this.#meters.clear();
  }
}
