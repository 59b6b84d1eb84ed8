import type { Knex } from 'knex';

const DAY_MS = 86_400_000;

/**
 * The TimescaleDB setup of each table: chunk width and compression. Time is
 * integer epoch ms, so chunks are widths in milliseconds and an integer "now"
 * function (meterhub_now_ms) lets the compression policies work. Segmenting by
 * meter keeps one meter's rows together in a compressed batch, which is how
 * every query reads them (`WHERE meter_ref = …`).
 */
export const TIMESCALE_TABLES = [
  { table: 'readings_power', time: 'ts', chunkMs: 7 * DAY_MS, segmentBy: 'meter_ref', compressAfterMs: 7 * DAY_MS },
  { table: 'readings_energy', time: 'ts', chunkMs: 7 * DAY_MS, segmentBy: 'meter_ref', compressAfterMs: 7 * DAY_MS },
  { table: 'rollups_power', time: 'bucket', chunkMs: 90 * DAY_MS, segmentBy: 'meter_ref, resolution', compressAfterMs: 90 * DAY_MS },
  { table: 'rollups_energy', time: 'bucket', chunkMs: 90 * DAY_MS, segmentBy: 'meter_ref, resolution', compressAfterMs: 90 * DAY_MS },
] as const;

/**
 * Turns the readings and rollup tables into TimescaleDB hypertables with
 * compression when the extension is available on the server; without it
 * nothing changes (plain PostgreSQL with BRIN indexes) and 'unavailable' is
 * returned. Run by migration 003 and again at every start, so a server that
 * gains the extension later is converted then. Idempotent: tables already
 * converted are left alone.
 *
 * Rollups stay with the rollup job rather than continuous aggregates: the
 * values are packed, and the job's recompute of dirty minutes already handles
 * late and corrected readings. Writes into compressed chunks (late readings,
 * rollup upserts) need TimescaleDB 2.11 or later.
 *
 * Not run on the test machines (no TimescaleDB there): only the "unavailable"
 * path is tested; the calls follow TimescaleDB's documented API.
 */
export async function enableTimescale(knex: Knex): Promise<'enabled' | 'already' | 'unavailable'> {
  const available = await knex.raw("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'") as { rows: unknown[] };
  if (available.rows.length === 0) return 'unavailable';
  await knex.raw('CREATE EXTENSION IF NOT EXISTS timescaledb');
  const existing = await knex.raw('SELECT hypertable_name FROM timescaledb_information.hypertables') as { rows: Array<{ hypertable_name: string }> };
  const done = new Set(existing.rows.map((r) => r.hypertable_name));
  if (TIMESCALE_TABLES.every((t) => done.has(t.table))) return 'already';
  await knex.raw("CREATE OR REPLACE FUNCTION meterhub_now_ms() RETURNS BIGINT LANGUAGE SQL STABLE AS $$ SELECT (EXTRACT(EPOCH FROM now()) * 1000)::BIGINT $$");
  for (const t of TIMESCALE_TABLES) {
    if (done.has(t.table)) continue;
    await knex.raw('SELECT create_hypertable(?, ?, chunk_time_interval => ?::BIGINT, migrate_data => true, if_not_exists => true)', [t.table, t.time, t.chunkMs]);
    await knex.raw('SELECT set_integer_now_func(?, ?)', [t.table, 'meterhub_now_ms']);
    await knex.raw(`ALTER TABLE ${t.table} SET (timescaledb.compress, timescaledb.compress_segmentby = '${t.segmentBy}', timescaledb.compress_orderby = '${t.time}')`);
    await knex.raw('SELECT add_compression_policy(?, ?::BIGINT, if_not_exists => true)', [t.table, t.compressAfterMs]);
  }
  return 'enabled';
}
