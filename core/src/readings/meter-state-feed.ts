import type { MeterStateEvent } from '@meterhub/sdk';

export type MeterStateListener = (event: MeterStateEvent) => void;

/**
 * Meter states, from the acquisition (polled meters) and from arrivals
 * (pushed meters), with the current state of each meter, so a live client can
 * be told where every meter stands when it subscribes and then only what
 * changes. `lastSeen` comes from the one latest-values store, so it is as
 * fresh as the newest reading whenever it is read.
 */
export class MeterStateFeed {
  readonly #listeners = new Set<MeterStateListener>();
  readonly #current = new Map<string, MeterStateEvent>();

  constructor(private readonly lastSeenOf: (meterId: string) => number | undefined = () => undefined) {}

  subscribe(listener: MeterStateListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  publish(event: MeterStateEvent): void {
    this.#current.set(event.meterId, event);
    const out = this.#withLastSeen(event);
    for (const listener of [...this.#listeners]) listener(out);
  }

  /** Drops a meter that no longer exists (deleted, or no longer tracked by its source). */
  forget(meterId: string): void {
    this.#current.delete(meterId);
  }

  get(meterId: string): MeterStateEvent | undefined {
    const event = this.#current.get(meterId);
    return event && this.#withLastSeen(event);
  }

  current(): MeterStateEvent[] {
    return [...this.#current.values()].map((e) => this.#withLastSeen(e));
  }

  #withLastSeen(event: MeterStateEvent): MeterStateEvent {
    const ts = this.lastSeenOf(event.meterId);
    return { ...event, lastSeen: ts === undefined ? null : new Date(ts).toISOString() };
  }
}
