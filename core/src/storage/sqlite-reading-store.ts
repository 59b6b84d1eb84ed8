import type { MeasurementFamily } from '@meterhub/sdk';
import Database from 'better-sqlite3';
import { SQLITE_PRAGMAS } from './knex-factory.js';
import { WalCheckpointer } from './wal-checkpointer.js';
import { mergePacked } from './packed-values.js';
import {
  dirtyMinutes, RESOLUTIONS, rawTable, rollupTable,
  type DirtyMinute, type PackedRow, type ReadingStore, type Resolution, type WriteBatch,
} from './reading-store.js';

type Row = { meter_ref: number; ts: number; data: Buffer };
const toPacked = (r: Row): PackedRow => ({ meterRef: r.meter_ref, ts: r.ts, data: r.data });
/** Range reads return arrays (better-sqlite3's raw mode): no throwaway object per row of a long export. */
const fromArray = (r: [number, number, Buffer]): PackedRow => ({ meterRef: r[0], ts: r[1], data: r[2] });

/**
 * Readings on SQLite through a dedicated better-sqlite3 connection: prepared
 * statements inside one transaction per batch, the fastest way into SQLite.
 * knex keeps its own connection for the relational tables; WAL lets both work.
 */
export class SqliteReadingStore implements ReadingStore {
  readonly engine = 'sqlite' as const;
  readonly db: Database.Database;
  readonly #stmts: Record<MeasurementFamily, {
    insert: Database.Statement; select: Database.Statement; update: Database.Statement;
    range: Database.Statement; before: Database.Statement; latest: Database.Statement;
    rollups: Database.Statement; upsertRollup: Database.Statement;
  }>;
  readonly #markDirty: Database.Statement;
  readonly #listDirty: Database.Statement;
  readonly #unmarkDirty: Database.Statement;
  readonly #writeTx: (batches: readonly WriteBatch[]) => void;
  readonly #checkpointer: WalCheckpointer;

  constructor(filename: string) {
    this.db = new Database(filename);
    for (const p of SQLITE_PRAGMAS) this.db.pragma(p);
    // Checkpoints run on a worker thread, not inside a commit on the event loop.
    this.db.pragma('wal_autocheckpoint = 0');
    this.#checkpointer = new WalCheckpointer(filename);
    const make = (f: MeasurementFamily) => {
      const t = rawTable(f);
      const r = rollupTable(f);
      return {
        insert: this.db.prepare(`INSERT INTO ${t} (meter_ref, ts, data) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`),
        select: this.db.prepare(`SELECT data FROM ${t} WHERE meter_ref = ? AND ts = ?`),
        update: this.db.prepare(`UPDATE ${t} SET data = ? WHERE meter_ref = ? AND ts = ?`),
        range: this.db.prepare(`SELECT meter_ref, ts, data FROM ${t} WHERE meter_ref = ? AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?`).raw(true),
        before: this.db.prepare(`SELECT meter_ref, ts, data FROM ${t} WHERE meter_ref = ? AND ts < ? ORDER BY ts DESC LIMIT 1`),
        latest: this.db.prepare(`SELECT t.meter_ref, t.ts, t.data FROM ${t} t JOIN (SELECT meter_ref, MAX(ts) AS ts FROM ${t} GROUP BY meter_ref) m ON m.meter_ref = t.meter_ref AND m.ts = t.ts`),
        rollups: this.db.prepare(`SELECT meter_ref, bucket AS ts, data FROM ${r} WHERE meter_ref = ? AND resolution = ? AND bucket >= ? AND bucket < ? ORDER BY bucket LIMIT ?`),
        upsertRollup: this.db.prepare(`INSERT INTO ${r} (meter_ref, resolution, bucket, data) VALUES (?, ?, ?, ?) ON CONFLICT (meter_ref, resolution, bucket) DO UPDATE SET data = excluded.data`),
      };
    };
    this.#stmts = { power: make('power'), energy: make('energy') };
    this.#markDirty = this.db.prepare('INSERT INTO rollup_dirty (meter_ref, minute) VALUES (?, ?) ON CONFLICT DO NOTHING');
    this.#listDirty = this.db.prepare('SELECT meter_ref, minute FROM rollup_dirty WHERE minute < ? ORDER BY meter_ref, minute LIMIT ?');
    this.#unmarkDirty = this.db.prepare('DELETE FROM rollup_dirty WHERE meter_ref = ? AND minute = ?');
    this.#writeTx = this.db.transaction((batches: readonly WriteBatch[]) => {
      for (const b of batches) {
        const s = this.#stmts[b.family];
        for (const row of b.rows) {
          if (s.insert.run(row.meterRef, row.ts, row.data).changes === 0) {
            const stored = s.select.get(row.meterRef, row.ts) as { data: Buffer };
            s.update.run(mergePacked(stored.data, row.data), row.meterRef, row.ts);
          }
        }
      }
      for (const d of dirtyMinutes(batches)) this.#markDirty.run(d.meterRef, d.minute);
    });
  }

  async write(batches: readonly WriteBatch[]): Promise<void> {
    this.#writeTx(batches);
  }

  async raw(family: MeasurementFamily, meterRef: number, from: number, to: number, limit: number): Promise<PackedRow[]> {
    return (this.#stmts[family].range.all(meterRef, from, to, limit) as Array<[number, number, Buffer]>).map(fromArray);
  }

  async lastBefore(family: MeasurementFamily, meterRef: number, ts: number): Promise<PackedRow | undefined> {
    const r = this.#stmts[family].before.get(meterRef, ts) as Row | undefined;
    return r && toPacked(r);
  }

  async latest(family: MeasurementFamily): Promise<PackedRow[]> {
    return (this.#stmts[family].latest.all() as Row[]).map(toPacked);
  }

  async rollups(family: MeasurementFamily, meterRef: number, resolution: Resolution, from: number, to: number, limit: number): Promise<PackedRow[]> {
    return (this.#stmts[family].rollups.all(meterRef, RESOLUTIONS[resolution].code, from, to, limit) as Row[]).map(toPacked);
  }

  async writeRollups(family: MeasurementFamily, resolution: Resolution, rows: readonly PackedRow[]): Promise<void> {
    const s = this.#stmts[family].upsertRollup;
    const code = RESOLUTIONS[resolution].code;
    this.db.transaction(() => {
      for (const r of rows) s.run(r.meterRef, code, r.ts, r.data);
    })();
  }

  async claimDirty(limit: number, before = Number.MAX_SAFE_INTEGER): Promise<DirtyMinute[]> {
    return (this.#listDirty.all(before, limit) as Array<{ meter_ref: number; minute: number }>)
      .map((r) => ({ meterRef: r.meter_ref, minute: r.minute }));
  }

  async clearDirty(minutes: readonly DirtyMinute[]): Promise<void> {
    this.db.transaction(() => {
      for (const m of minutes) this.#unmarkDirty.run(m.meterRef, m.minute);
    })();
  }

  /** One process owns a SQLite file, and the storage service gives the job the writer's turn: nothing to lock. */
  rollupTurn<T>(fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  async deleteBefore(family: MeasurementFamily, resolution: Resolution | 'raw', before: number): Promise<number> {
    if (resolution === 'raw') return this.db.prepare(`DELETE FROM ${rawTable(family)} WHERE ts < ?`).run(before).changes;
    return this.db.prepare(`DELETE FROM ${rollupTable(family)} WHERE resolution = ? AND bucket < ?`).run(RESOLUTIONS[resolution].code, before).changes;
  }

  async close(): Promise<void> {
    await this.#checkpointer.close();
    if (this.db.open) {
      // Fold the WAL back so the file on disk is complete on its own.
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.close();
    }
  }
}

