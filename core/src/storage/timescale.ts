import type { Knex } from 'knex';

/**
 * Turns the readings tables into TimescaleDB hypertables with compression when
 * the extension is available on the server. Readings use integer epoch-ms time,
 * so chunks are 7 days of milliseconds and an integer "now" function lets
 * compression policies work. Without the extension nothing changes: plain
 * PostgreSQL with its BRIN indexes.
 *
 * Kept deliberately small: the test machines have no TimescaleDB, so only the
 * detection is tested; the rest follows TimescaleDB's documented calls.
 */
export async function enableTimescale(knex: Knex): Promise<'enabled' | 'already' | 'unavailable'> {
  const available = await knex.raw("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'") as { rows: unknown[] };
  if (available.rows.length === 0) return 'unavailable';
  await knex.raw('CREATE EXTENSION IF NOT EXISTS timescaledb');
  const existing = await knex.raw("SELECT hypertable_name FROM timescaledb_information.hypertables WHERE hypertable_name = 'readings_power'") as { rows: unknown[] };
  if (existing.rows.length > 0) return 'already';
  await knex.raw("CREATE OR REPLACE FUNCTION meterhub_now_ms() RETURNS BIGINT LANGUAGE SQL STABLE AS $$ SELECT (EXTRACT(EPOCH FROM now()) * 1000)::BIGINT $$");
  for (const table of ['readings_power', 'readings_energy']) {
    await knex.raw('SELECT create_hypertable(?, ?, chunk_time_interval => ?::BIGINT, migrate_data => true, if_not_exists => true)', [table, 'ts', 7 * 86_400_000]);
    await knex.raw('SELECT set_integer_now_func(?, ?)', [table, 'meterhub_now_ms']);
    await knex.raw(`ALTER TABLE ${table} SET (timescaledb.compress, timescaledb.compress_segmentby = 'meter_ref')`);
    await knex.raw('SELECT add_compression_policy(?, ?::BIGINT, if_not_exists => true)', [table, 7 * 86_400_000]);
  }
  return 'enabled';
}
