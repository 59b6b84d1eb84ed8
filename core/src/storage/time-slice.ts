import { setImmediate as nextTurn } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';

/**
 * Keeps long storage work (rollups after a backfill, bulk ingest, long
 * queries) from holding the event loop: the work calls `pause()` between
 * small steps, and once `budgetMs` passed since the last turn it waits for one
 * turn of the event loop, so polls, HTTP requests and the live stream run in
 * between. better-sqlite3 is synchronous, so awaiting its calls alone never
 * lets anything else run.
 */
export class TimeSlice {
  #since = performance.now();

  constructor(private readonly budgetMs = 4) {}

  /** True when the current slice is used up (the caller should `pause()` before its next step). */
  get due(): boolean {
    return performance.now() - this.#since >= this.budgetMs;
  }

  async pause(): Promise<void> {
    if (!this.due) return;
    await nextTurn();
    this.#since = performance.now();
  }
}
