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
/** Rows per INSERT statement: a conflict in a chunk means looking its rows up one by one. */
const CHUNK = 4000;
/** SQLSTATE of a duplicate key: a COPY met a row that is already stored. */
const UNIQUE_VIOLATION = '23505';
/** A claim older than this was left by a rollup job that stopped (a host killed mid-run): its marks are claimed again. */
const STALE_CLAIM_MS = 10 * 60_000;
/** The advisory lock key of the rollup job, the same on every host of a database ("mhru" in ASCII: meterhub rollups). */
const ROLLUP_LOCK = 0x6d68_7275;

/**
 * Array parameters as PostgreSQL array literals, built here: the driver's own
 * conversion escapes element by element and held the event loop for tens of
 * milliseconds on a few thousand blobs.
 */
const intArray = (values: readonly number[]): string => `{${values.join(',')}}`;
const byteaArray = (values: readonly Buffer[]): string => `{${values.map((b) => `"\\\\x${b.toString('hex')}"`).join(',')}}`;

/**
 * Inserts with ON CONFLICT DO NOTHING, each chunk's rows as three arrays (a
 * statement of thousands of placeholders costs more than the insert): a chunk
 * whose row count falls short had conflicts, and only then are the existing
 * rows looked up and merged.
 */
async function insertMerging(client: pg.PoolClient, table: string, rows: readonly PackedRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    const inserted = await client.query(`INSERT INTO ${table} (meter_ref, ts, data) SELECT * FROM unnest($1::int[], $2::bigint[], $3::bytea[]) ON CONFLICT DO NOTHING`,
      [intArray(chunk.map((r) => r.meterRef)), intArray(chunk.map((r) => r.ts)), byteaArray(chunk.map((r) => r.data))]);
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
    await this.#transaction('BEGIN', async (client) => {
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
      if (dirty.length) {
        // A mark the rollup job has claimed is made unclaimed again: the job then leaves it for its next run. ON CONFLICT DO UPDATE
        // locks an existing mark even when its WHERE skips the update, so the job's claim (SKIP LOCKED) passes over a minute being written.
        await client.query(`INSERT INTO rollup_dirty (meter_ref, minute) SELECT * FROM unnest($1::int[], $2::bigint[])
          ON CONFLICT (meter_ref, minute) DO UPDATE SET claimed_at = NULL WHERE rollup_dirty.claimed_at IS NOT NULL`, [intArray(dirty.map((d) => d.meterRef)), intArray(dirty.map((d) => d.minute))]);
      }
    });
  }

  /** `fn` in one transaction on one pooled connection, opened with `begin`; rolled back if it throws. */
  async #transaction(begin: string, fn: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    const client = await this.knex.client.acquireConnection() as pg.PoolClient;
    try {
      await client.query(begin);
      await fn(client);
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

  /**
   * Upserts as columns of arrays, one statement for any number of rows (a
   * backfill writes hundreds of thousands): no statement of thousands of
   * placeholders to parse. Without waiting for the disk
   * (synchronous_commit off): commits stay in order, so a crash can lose only
   * the newest rollups together with, or before, the clearing of their dirty
   * marks, and those minutes are rolled up again.
   */
  async writeRollups(family: MeasurementFamily, resolution: Resolution, rows: readonly PackedRow[]): Promise<void> {
    const code = RESOLUTIONS[resolution].code;
    await this.#lazyCommit(async (client) => {
      await client.query(`INSERT INTO ${rollupTable(family)} (meter_ref, resolution, bucket, data) SELECT m, $1, b, d FROM unnest($2::int[], $3::bigint[], $4::bytea[]) AS x(m, b, d)
         ON CONFLICT (meter_ref, resolution, bucket) DO UPDATE SET data = excluded.data`, [code, intArray(rows.map((r) => r.meterRef)), intArray(rows.map((r) => r.ts)), byteaArray(rows.map((r) => r.data))]);
    });
  }

  /** One transaction that does not wait for its commit to reach the disk (see writeRollups). */
  #lazyCommit(fn: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    return this.#transaction('BEGIN; SET LOCAL synchronous_commit = off', fn);
  }

  /**
   * Claims marks with one statement: those not claimed, or claimed so long ago
   * that the host holding them must have stopped. SKIP LOCKED passes over
   * marks a write in progress holds (they are dirty again once it commits).
   */
  async claimDirty(limit: number, before = Number.MAX_SAFE_INTEGER): Promise<DirtyMinute[]> {
    const claim = Date.now();
    const result = await this.knex.raw(`WITH c AS (
        SELECT meter_ref, minute FROM rollup_dirty WHERE (claimed_at IS NULL OR claimed_at < ?) AND minute < ?
        ORDER BY meter_ref, minute LIMIT ? FOR UPDATE SKIP LOCKED)
      UPDATE rollup_dirty d SET claimed_at = ? FROM c WHERE d.meter_ref = c.meter_ref AND d.minute = c.minute RETURNING d.meter_ref, d.minute`,
    [claim - STALE_CLAIM_MS, before, limit, claim]) as { rows: Array<{ meter_ref: number; minute: string }> };
    return result.rows.map((r) => ({ meterRef: r.meter_ref, minute: Number(r.minute), claim }))
      .sort((a, b) => a.meterRef - b.meterRef || a.minute - b.minute);
  }

  /**
   * Deletes the marks still under their claim (a write since has unclaimed
   * them); marks a write in progress holds are skipped, not waited for, and
   * stay dirty. Two arrays joined on the server: one statement for any number.
   */
  async clearDirty(minutes: readonly DirtyMinute[]): Promise<void> {
    const byClaim = new Map<number, DirtyMinute[]>();
    for (const m of minutes) {
      const list = byClaim.get(m.claim ?? -1);
      if (list) list.push(m);
      else byClaim.set(m.claim ?? -1, [m]);
    }
    for (const [claim, list] of byClaim) {
      await this.#lazyCommit(async (client) => {
        await client.query(`DELETE FROM rollup_dirty d USING (
            SELECT r.meter_ref, r.minute FROM rollup_dirty r JOIN unnest($1::int[], $2::bigint[]) AS x(meter_ref, minute) ON r.meter_ref = x.meter_ref AND r.minute = x.minute
            WHERE r.claimed_at IS NOT DISTINCT FROM $3::bigint FOR UPDATE OF r SKIP LOCKED) s
          WHERE d.meter_ref = s.meter_ref AND d.minute = s.minute`,
        [intArray(list.map((m) => m.meterRef)), intArray(list.map((m) => m.minute)), claim === -1 ? null : claim]);
      });
    }
  }

  /**
   * Holds a transaction-level advisory lock on a connection of its own while
   * `fn` runs: one rollup batch at a time among the hosts sharing the database.
   */
  async rollupTurn<T>(fn: () => Promise<T>): Promise<T> {
    let out: T | undefined;
    await this.#transaction('BEGIN', async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [ROLLUP_LOCK]);
      out = await fn();
    });
    return out as T;
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
