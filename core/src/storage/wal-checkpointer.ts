import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Runs SQLite's WAL checkpoints on a worker thread. A checkpoint copies the
 * write-ahead log into the database file; SQLite does it by itself inside the
 * commit that crosses 1000 pages, synchronously, which after a backfill held
 * the event loop for tens to hundreds of milliseconds. The reading store turns
 * that off (`wal_autocheckpoint = 0`) and this worker, with a connection of
 * its own, checkpoints every `intervalMs` in PASSIVE mode (it never waits for
 * or blocks the writer).
 */
export class WalCheckpointer {
  readonly #worker: Worker;

  constructor(filename: string, intervalMs = 1000) {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    // CommonJS source run with `eval`: no file to find in src (tests) or dist.
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      const Database = require(workerData.module);
      const db = new Database(workerData.filename);
      db.pragma('busy_timeout = 5000');
      const timer = setInterval(() => {
        try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy or closing: the next round catches up */ }
      }, workerData.intervalMs);
      parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close(); });
    `;
    this.#worker = new Worker(source, { eval: true, workerData: { module, filename, intervalMs } });
    this.#worker.unref();
  }

  /** Stops the worker and closes its connection. */
  async close(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
    this.#worker.postMessage('stop');
    await Promise.race([exited, new Promise<void>((r) => setTimeout(r, 2000).unref())]);
    await this.#worker.terminate();
  }
}
