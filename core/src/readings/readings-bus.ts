import type { Reading } from '@meterhub/sdk';

export type ReadingListener = (reading: Reading) => void;

/**
 * One event per meter per poll cycle, fanned out to storage, live streams, the
 * uplink and plugins. Delivery is synchronous and in subscription order;
 * listeners that do slow work queue it themselves. Listeners handed in through
 * the host API are already wrapped so that a throw is charged to their plugin.
 */
export class ReadingsBus {
  readonly #listeners = new Set<ReadingListener>();
  #published = 0;

  get published(): number {
    return this.#published;
  }

  subscribe(listener: ReadingListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  publish(reading: Reading): void {
    this.#published++;
    for (const listener of [...this.#listeners]) listener(reading);
  }
}
