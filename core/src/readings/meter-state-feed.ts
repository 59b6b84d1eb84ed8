import type { MeterStateEvent } from '@meterhub/sdk';

export type MeterStateListener = (event: MeterStateEvent) => void;

/**
 * Meter state changes from the acquisition, with the current state of each
 * meter, so a live client can be told where every meter stands when it
 * subscribes and then only what changes.
 */
export class MeterStateFeed {
  readonly #listeners = new Set<MeterStateListener>();
  readonly #current = new Map<string, MeterStateEvent>();

  subscribe(listener: MeterStateListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  publish(event: MeterStateEvent): void {
    this.#current.set(event.meterId, event);
    for (const listener of [...this.#listeners]) listener(event);
  }

  current(): MeterStateEvent[] {
    return [...this.#current.values()];
  }
}
