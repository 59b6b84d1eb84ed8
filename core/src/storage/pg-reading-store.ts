import type { MeasurementFamily } from '@meterhub/sdk';
import type { Knex } from 'knex';
import type pg from 'pg';
import { mergePacked } from './packed-values.js';
import { copyRows } from './pg-copy.js';
import {
  dirtyMinutes, RESOLUTIONS, rawTable, rollupTable,
  type DirtyMinute, type PackedRow, type ReadingStore, type Resolution, type WriteBatch,
} from './reading-store.js';

type Row = { meter_ref: number; ts: number; data: Buffer };
const toPacked = (r: Row): PackedRow => ({ meterRef: r.meter_ref, ts: Number(r.ts), data: r.data });
/** Rows per INSERT statement: 3 parameters each, far below PostgreSQL's 65535. */
const CHUNK = 4000;
/** SQLSTATE of a duplicate key: a COPY met a row that is already stored. */
const UNIQUE_VIOLATION = '23505';

const placeholderCache = new Map<string, string>();

/** `($1, $2, $3), ($4, $5, $6), …` for `rows` rows of `width` parameters (cached: batch sizes repeat). */
function placeholders(rows: number, width: number): string {
  const key = `${rows}x${width}`;
  const cached = placeholderCache.get(key);
  if (cached) return cached;
  const parts: string[] = [];
  for (let r = 0; r < rows; r++) {
    const cols: string[] = [];
    for (let c = 1; c <= width; c++) cols.push(`$${r * width + c}`);
    parts.push(`(${cols.join(', ')})`);
  }
  const sql = parts.join(',');
  if (placeholderCache.size < 64) placeholderCache.set(key, sql);
  return sql;
}

/**
 * Multi-row inserts with ON CONFLICT DO NOTHING: a chunk whose row count falls
 * short had conflicts, and only then are the existing rows looked up and merged
 * ($n placeholders: knex's `?` rewriting costs more than the insert at these sizes).
 */
async function insertMerging(client: pg.PoolClient, table: string, rows: readonly PackedRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    const params: unknown[] = [];
    for (const r of chunk) params.push(r.meterRef, r.ts, r.data);
    const inserted = await client.query(`INSERT INTO ${table} (meter_ref, ts, data) VALUES ${placeholders(chunk.length, 3)} ON CONFLICT DO NOTHING`, params);
    if (inserted.rowCount === chunk.length) continue;
    for (const row of chunk) {
      const stored = await client.query<{ data: Buffer }>(`SELECT data FROM ${table} WHERE meter_ref = $1 AND ts = $2 FOR UPDATE`, [row.meterRef, row.ts]);
      // The row we just inserted carries exactly our data: nothing to merge.
      if (stored.rows[0]!.data.equals(row.data)) continue;
      await client.query(`UPDATE ${table} SET data = $1 WHERE meter_ref = $2 AND ts = $3`, [mergePacked(stored.rows[0]!.data, row.data), row.meterRef, row.ts]);
    }
  }
}

/**
 * Readings on PostgreSQL: new rows by binary COPY; rows that already exist
 * (re-submissions) merged through inserts with ON CONFLICT DO NOTHING.
 */
export class PgReadingStore implements ReadingStore {
  readonly engine = 'postgres' as const;

  constructor(private readonly knex: Knex) {}

  /**
   * Writes on one pooled connection. Each family's rows go in with one binary
   * COPY (measured several times faster than multi-row inserts: bench/
   * pg-ingest-methods.ts) inside a savepoint. A COPY cannot skip rows that
   * exist, so when one does (a re-submission, an uplink retry) it fails with
   * a unique violation: the savepoint is rolled back and that batch takes the
   * merging insert instead.
   */
  async write(batches: readonly WriteBatch[]): Promise<void> {
    const client = await this.knex.client.acquireConnection() as pg.PoolClient;
    try {
      await client.query('BEGIN');
      for (const b of batches) {
        const t = rawTable(b.family);
        await client.query('SAVEPOINT copy_rows');
        try {
          await copyRows(client, t, b.rows);
          await client.query('RELEASE SAVEPOINT copy_rows');
        } catch (err) {
          if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
          await client.query('ROLLBACK TO SAVEPOINT copy_rows');
          await insertMerging(client, t, b.rows);
        }
      }
      const dirty = dirtyMinutes(batches);
      for (let i = 0; i < dirty.length; i += CHUNK) {
        const chunk = dirty.slice(i, i + CHUNK);
        await client.query(`INSERT INTO rollup_dirty (meter_ref, minute) VALUES ${placeholders(chunk.length, 2)} ON CONFLICT DO NOTHING`, chunk.flatMap((d) => [d.meterRef, d.minute]));
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      await this.knex.client.releaseConnection(client);
    }
  }

  async #rows(sql: string, bindings: readonly unknown[]): Promise<PackedRow[]> {
    const result = await this.knex.raw(sql, bindings as Knex.RawBinding[]) as { rows: Row[] };
    return result.rows.map(toPacked);
  }

  raw(family: MeasurementFamily, meterRef: number, from: number, to: number, limit: number): Promise<PackedRow[]> {
    return this.#rows(`SELECT meter_ref, ts, data FROM ${rawTable(family)} WHERE meter_ref = ? AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?`, [meterRef, from, to, limit]);
  }

  async lastBefore(family: MeasurementFamily, meterRef: number, ts: number): Promise<PackedRow | undefined> {
    return (await this.#rows(`SELECT meter_ref, ts, data FROM ${rawTable(family)} WHERE meter_ref = ? AND ts < ? ORDER BY ts DESC LIMIT 1`, [meterRef, ts]))[0];
  }

  latest(family: MeasurementFamily): Promise<PackedRow[]> {
    return this.#rows(`SELECT DISTINCT ON (meter_ref) meter_ref, ts, data FROM ${rawTable(family)} ORDER BY meter_ref, ts DESC`, []);
  }

  rollups(family: MeasurementFamily, meterRef: number, resolution: Resolution, from: number, to: number, limit: number): Promise<PackedRow[]> {
    return this.#rows(`SELECT meter_ref, bucket AS ts, data FROM ${rollupTable(family)} WHERE meter_ref = ? AND resolution = ? AND bucket >= ? AND bucket < ? ORDER BY bucket LIMIT ?`,
      [meterRef, RESOLUTIONS[resolution].code, from, to, limit]);
  }

  async writeRollups(family: MeasurementFamily, resolution: Resolution, rows: readonly PackedRow[]): Promise<void> {
    const code = RESOLUTIONS[resolution].code;
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK);
      await this.knex.raw(
        `INSERT INTO ${rollupTable(family)} (meter_ref, resolution, bucket, data) VALUES ${chunk.map(() => '(?, ?, ?, ?)').join(',')}
         ON CONFLICT (meter_ref, resolution, bucket) DO UPDATE SET data = excluded.data`,
        chunk.flatMap((r) => [r.meterRef, code, r.ts, r.data]),
      );
    }
  }

  async dirty(limit: number): Promise<DirtyMinute[]> {
    const result = await this.knex.raw('SELECT meter_ref, minute FROM rollup_dirty ORDER BY meter_ref, minute LIMIT ?', [limit]) as { rows: Array<{ meter_ref: number; minute: number }> };
    return result.rows.map((r) => ({ meterRef: r.meter_ref, minute: Number(r.minute) }));
  }

  async clearDirty(minutes: readonly DirtyMinute[]): Promise<void> {
    for (let i = 0; i < minutes.length; i += CHUNK) {
      const chunk = minutes.slice(i, i + CHUNK);
      await this.knex.raw(`DELETE FROM rollup_dirty WHERE (meter_ref, minute) IN (${chunk.map(() => '(?, ?)').join(',')})`, chunk.flatMap((m) => [m.meterRef, m.minute]));
    }
  }

  async deleteBefore(family: MeasurementFamily, resolution: Resolution | 'raw', before: number): Promise<number> {
    const result = resolution === 'raw'
      ? await this.knex.raw(`DELETE FROM ${rawTable(family)} WHERE ts < ?`, [before])
      : await this.knex.raw(`DELETE FROM ${rollupTable(family)} WHERE resolution = ? AND bucket < ?`, [RESOLUTIONS[resolution].code, before]);
    return (result as { rowCount: number }).rowCount;
  }

  async close(): Promise<void> {
    // The knex pool is owned and destroyed by the storage service.
  }
}
