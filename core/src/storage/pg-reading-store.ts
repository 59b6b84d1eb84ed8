import type { MeasurementFamily } from '@meterhub/sdk';
import type { Knex } from 'knex';
import pg from 'pg';
import { mergePacked } from './packed-values.js';
import {
  dirtyMinutes, RESOLUTIONS, rawTable, rollupTable,
  type DirtyMinute, type PackedRow, type ReadingStore, type Resolution, type WriteBatch,
} from './reading-store.js';

// BIGINT columns hold epoch milliseconds, well inside Number's exact range.
pg.types.setTypeParser(20, (v: string) => Number(v));

type Row = { meter_ref: number; ts: number; data: Buffer };
const toPacked = (r: Row): PackedRow => ({ meterRef: r.meter_ref, ts: Number(r.ts), data: r.data });
/** Rows per INSERT statement: 3 parameters each, far below PostgreSQL's 65535. */
const CHUNK = 4000;

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
 * Readings on PostgreSQL: multi-row inserts with ON CONFLICT DO NOTHING
 * RETURNING, so one round trip per chunk tells which rows already existed;
 * only those are read back and merged.
 */
export class PgReadingStore implements ReadingStore {
  readonly engine = 'postgres' as const;

  constructor(private readonly knex: Knex) {}

  /**
   * Writes on one pooled connection with $n placeholders (knex's `?` rewriting
   * costs more than the insert at these sizes). A chunk whose row count falls
   * short had conflicts: only then are the existing rows looked up and merged.
   */
  async write(batches: readonly WriteBatch[]): Promise<void> {
    const client = await this.knex.client.acquireConnection() as pg.PoolClient;
    try {
      await client.query('BEGIN');
      for (const b of batches) {
        const t = rawTable(b.family);
        for (let i = 0; i < b.rows.length; i += CHUNK) {
          const chunk = b.rows.slice(i, i + CHUNK);
          const params: unknown[] = [];
          for (const r of chunk) params.push(r.meterRef, r.ts, r.data);
          const inserted = await client.query(`INSERT INTO ${t} (meter_ref, ts, data) VALUES ${placeholders(chunk.length, 3)} ON CONFLICT DO NOTHING`, params);
          if (inserted.rowCount === chunk.length) continue;
          for (const row of chunk) {
            const stored = await client.query<{ data: Buffer }>(`SELECT data FROM ${t} WHERE meter_ref = $1 AND ts = $2 FOR UPDATE`, [row.meterRef, row.ts]);
            // The row we just inserted carries exactly our data: nothing to merge.
            if (stored.rows[0]!.data.equals(row.data)) continue;
            await client.query(`UPDATE ${t} SET data = $1 WHERE meter_ref = $2 AND ts = $3`, [mergePacked(stored.rows[0]!.data, row.data), row.meterRef, row.ts]);
          }
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

  /** Upserts in multi-row statements with $n placeholders on one connection: a backfill writes hundreds of thousands. */
  async writeRollups(family: MeasurementFamily, resolution: Resolution, rows: readonly PackedRow[]): Promise<void> {
    const code = RESOLUTIONS[resolution].code;
    await this.#onConnection(async (client) => {
      for (let i = 0; i < rows.length; i += CHUNK) {
        const chunk = rows.slice(i, i + CHUNK);
        const params: unknown[] = [];
        for (const r of chunk) params.push(r.meterRef, code, r.ts, r.data);
        await client.query(`INSERT INTO ${rollupTable(family)} (meter_ref, resolution, bucket, data) VALUES ${placeholders(chunk.length, 4)}
           ON CONFLICT (meter_ref, resolution, bucket) DO UPDATE SET data = excluded.data`, params);
      }
    });
  }

  async #onConnection<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.knex.client.acquireConnection() as pg.PoolClient;
    try {
      return await fn(client);
    } finally {
      await this.knex.client.releaseConnection(client);
    }
  }

  async dirty(limit: number): Promise<DirtyMinute[]> {
    const result = await this.knex.raw('SELECT meter_ref, minute FROM rollup_dirty ORDER BY meter_ref, minute LIMIT ?', [limit]) as { rows: Array<{ meter_ref: number; minute: number }> };
    return result.rows.map((r) => ({ meterRef: r.meter_ref, minute: Number(r.minute) }));
  }

  /** Deletes the marks as two arrays joined on the server: one statement for any number of minutes. */
  async clearDirty(minutes: readonly DirtyMinute[]): Promise<void> {
    if (minutes.length === 0) return;
    await this.#onConnection((client) => client.query('DELETE FROM rollup_dirty d USING unnest($1::int[], $2::bigint[]) AS x(meter_ref, minute) WHERE d.meter_ref = x.meter_ref AND d.minute = x.minute',
      [minutes.map((m) => m.meterRef), minutes.map((m) => m.minute)]));
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
