import Database from 'better-sqlite3';
import { getMeasurement, type MeasurementFamily, type Reading } from '@meterhub/sdk';

/** One stored reading of one family: what one ingest request carries per row. */
export interface OutboxRow {
  id: number;
  meterId: string;
  family: MeasurementFamily;
  ts: number;
  values: Record<string, number>;
}

/**
 * The durable queue between the local host and the central one: a
 * better-sqlite3 file in WAL mode. A reading is written here (one transaction,
 * synchronously, inside the readings listener) before it counts as taken, and
 * a row leaves only after the central host confirmed it. Survives kill -9 and
 * restarts; a power cut can lose the last few hundred milliseconds (WAL with
 * synchronous=NORMAL).
 */
export class Outbox {
  readonly db: Database.Database;
  readonly #insert: Database.Statement;
  readonly #oldest: Database.Statement;
  readonly #newest: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #count: Database.Statement;
  readonly #firstTs: Database.Statement;
  readonly #dropPower: Database.Statement;
  readonly #reject: Database.Statement;
  readonly #rejected: Database.Statement;
  #size: number;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS outbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      meter TEXT NOT NULL, family TEXT NOT NULL, ts INTEGER NOT NULL, payload TEXT NOT NULL)`);
    // Rows the central host refused for good (unknown meter, invalid values): kept, never dropped, reported.
    this.db.exec(`CREATE TABLE IF NOT EXISTS rejected (
      id INTEGER PRIMARY KEY, meter TEXT NOT NULL, family TEXT NOT NULL, ts INTEGER NOT NULL, payload TEXT NOT NULL, reason TEXT NOT NULL)`);
    this.#reject = this.db.prepare('INSERT OR REPLACE INTO rejected (id, meter, family, ts, payload, reason) SELECT id, meter, family, ts, payload, ? FROM outbox WHERE id = ?');
    this.#rejected = this.db.prepare('SELECT COUNT(*) AS n FROM rejected');
    this.#insert = this.db.prepare('INSERT INTO outbox (meter, family, ts, payload) VALUES (?, ?, ?, ?)');
    this.#oldest = this.db.prepare('SELECT id, meter, family, ts, payload FROM outbox ORDER BY id LIMIT ?');
    this.#newest = this.db.prepare('SELECT id, meter, family, ts, payload FROM outbox ORDER BY id DESC LIMIT ?');
    this.#delete = this.db.prepare('DELETE FROM outbox WHERE id = ?');
    this.#count = this.db.prepare('SELECT COUNT(*) AS n FROM outbox');
    // Rows are queued in time order: the first by id is the oldest, read from the primary key, not a scan.
    this.#firstTs = this.db.prepare('SELECT ts FROM outbox ORDER BY id LIMIT 1');
    this.#dropPower = this.db.prepare("DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE family = 'power' ORDER BY id LIMIT ?)");
    this.#size = (this.#count.get() as { n: number }).n;
  }

  get size(): number {
    return this.#size;
  }

  /** Epoch ms of the oldest queued reading, or undefined when empty. */
  oldestTs(): number | undefined {
    return (this.#firstTs.get() as { ts: number } | undefined)?.ts;
  }

  /** Splits a reading by family (the central host takes instant values and counters on separate endpoints) and queues it. */
  add(reading: Reading): void {
    const byFamily: Record<MeasurementFamily, Record<string, number>> = { power: {}, energy: {} };
    for (const [id, v] of Object.entries(reading.values)) {
      const family = getMeasurement(id)?.family;
      if (family && Number.isFinite(v)) byFamily[family][id] = v;
    }
    const rows = (['power', 'energy'] as const).filter((f) => Object.keys(byFamily[f]).length > 0);
    if (rows.length === 0) return;
    this.db.transaction(() => {
      for (const f of rows) this.#insert.run(reading.meterId, f, reading.ts, JSON.stringify(byFamily[f]));
    })();
    this.#size += rows.length;
  }

  #rows(raw: unknown[]): OutboxRow[] {
    return (raw as Array<{ id: number; meter: string; family: MeasurementFamily; ts: number; payload: string }>).map((r) => ({
      id: r.id, meterId: r.meter, family: r.family, ts: r.ts, values: JSON.parse(r.payload) as Record<string, number>,
    }));
  }

  oldest(limit: number): OutboxRow[] {
    return this.#rows(this.#oldest.all(limit));
  }

  newest(limit: number): OutboxRow[] {
    return this.#rows(this.#newest.all(limit));
  }

  /** Removes rows the central host confirmed. */
  remove(ids: readonly number[]): void {
    this.db.transaction(() => {
      for (const id of ids) this.#size -= this.#delete.run(id).changes;
    })();
  }

  /** Moves rows the central host will never accept to the `rejected` table, with the reason. */
  reject(ids: readonly number[], reason: string): void {
    this.db.transaction(() => {
      for (const id of ids) {
        this.#reject.run(reason, id);
        this.#size -= this.#delete.run(id).changes;
      }
    })();
  }

  rejectedCount(): number {
    return (this.#rejected.get() as { n: number }).n;
  }

  /**
   * Keeps the outbox under `max` rows by dropping the oldest instant values;
   * counters are kept, since the central host can rebuild consumption from
   * any later counter value but never from a lost one. Returns rows dropped.
   */
  enforceCap(max: number): number {
    const excess = this.#size - max;
    if (excess <= 0) return 0;
    const dropped = this.#dropPower.run(excess).changes;
    this.#size -= dropped;
    return dropped;
  }

  close(): void {
    this.db.close();
  }
}
