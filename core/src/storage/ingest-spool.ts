import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SQLITE_PRAGMAS } from './knex-factory.js';

export interface SpooledReading {
  meterRef: number;
  ts: number;
  values: Record<string, number>;
}

/**
 * Readings waiting for the database: a small SQLite file in the data dir,
 * written when the database cannot take a batch (PostgreSQL restarting, a
 * network cut) and drained oldest first when it can again. Bounded: past
 * `maxRows` the oldest readings are dropped, and counted, so a long outage
 * cannot fill the disk; a warning is logged from 80% on.
 */
export class IngestSpool {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement;
  readonly #count: Database.Statement;
  dropped = 0;

  constructor(filename: string, readonly maxRows: number) {
    mkdirSync(dirname(filename), { recursive: true });
    this.#db = new Database(filename);
    for (const p of SQLITE_PRAGMAS) this.#db.pragma(p);
    this.#db.exec('CREATE TABLE IF NOT EXISTS spool (id INTEGER PRIMARY KEY AUTOINCREMENT, meter_ref INTEGER NOT NULL, ts INTEGER NOT NULL, vals TEXT NOT NULL)');
    this.#insert = this.#db.prepare('INSERT INTO spool (meter_ref, ts, vals) VALUES (?, ?, ?)');
    this.#count = this.#db.prepare('SELECT COUNT(*) AS n FROM spool');
  }

  get size(): number {
    return (this.#count.get() as { n: number }).n;
  }

  /** Appends readings durably; drops the oldest beyond the cap. */
  append(readings: readonly SpooledReading[]): void {
    this.#db.transaction(() => {
      for (const r of readings) this.#insert.run(r.meterRef, r.ts, JSON.stringify(r.values));
      const excess = this.size - this.maxRows;
      if (excess > 0) {
        this.#db.prepare('DELETE FROM spool WHERE id IN (SELECT id FROM spool ORDER BY id LIMIT ?)').run(excess);
        this.dropped += excess;
      }
    })();
  }

  /** The oldest readings, with the id up to which they reach. */
  peek(limit: number): { upTo: number; readings: SpooledReading[] } {
    const rows = this.#db.prepare('SELECT id, meter_ref, ts, vals FROM spool ORDER BY id LIMIT ?').all(limit) as Array<{ id: number; meter_ref: number; ts: number; vals: string }>;
    return {
      upTo: rows.length ? rows[rows.length - 1]!.id : 0,
      readings: rows.map((r) => ({ meterRef: r.meter_ref, ts: r.ts, values: JSON.parse(r.vals) as Record<string, number> })),
    };
  }

  /** Removes readings up to `id`, once the database confirmed them. */
  remove(upTo: number): void {
    this.#db.prepare('DELETE FROM spool WHERE id <= ?').run(upTo);
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
