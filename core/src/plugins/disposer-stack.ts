import type { Disposer } from '@meterhub/sdk';
import { withTimeout } from './with-timeout.js';

/**
 * The registrations one plugin made, undone in reverse order. Each disposer
 * runs once, in its own try/catch and with its own timeout, so one broken
 * clean-up cannot keep the others from running.
 */
export class DisposerStack {
  #items: Array<{ label: string; dispose: Disposer }> = [];

  get size(): number {
    return this.#items.length;
  }

  /** Records a disposer and returns one that removes and runs it early. */
  push(label: string, dispose: Disposer): Disposer {
    const item = { label, dispose };
    this.#items.push(item);
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      this.#items = this.#items.filter((i) => i !== item);
      await dispose();
    };
  }

  /** Runs every disposer, newest first; returns the failures instead of throwing. */
  async disposeAll(timeoutMs: number): Promise<Array<{ label: string; error: unknown }>> {
    const failures: Array<{ label: string; error: unknown }> = [];
    const items = this.#items.reverse();
    this.#items = [];
    for (const item of items) {
      try {
        await withTimeout(item.dispose, timeoutMs, `disposer "${item.label}"`);
      } catch (error) {
        failures.push({ label: item.label, error });
      }
    }
    return failures;
  }
}
